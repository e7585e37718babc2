using System.Text.Json.Serialization;
using Stratus.Compute.Virt;
using Stratus.Core.Messaging;

namespace Stratus.Compute.Rpc;

/// <summary>
/// The RPC topics between Nova's services, as in Nova: the API and the agents talk to
/// <c>conductor</c>, the conductor asks <c>scheduler</c>, and each host's agent serves
/// <c>compute</c> as server <c>[DEFAULT] host</c>. Each topic has its client, and its messages are the
/// records beside it, shared by sender and handler.
/// </summary>
public static class ComputeRpc
{
    public const string ConductorTopic = "conductor", SchedulerTopic = "scheduler", ComputeTopic = "compute";

    /// <summary>How long a call waits before the caller gives up (oslo's rpc_response_timeout).</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);
}

/// <summary>nova-conductor's topic (Nova's conductor and compute-task rpcapi).</summary>
public sealed class ConductorApi(IMessageBus bus) : RpcClient(bus, ComputeRpc.ConductorTopic, ComputeRpcJson.Default, ComputeRpc.CallTimeout);

/// <summary>nova-scheduler's topic.</summary>
public sealed class SchedulerApi(IMessageBus bus) : RpcClient(bus, ComputeRpc.SchedulerTopic, ComputeRpcJson.Default, ComputeRpc.CallTimeout);

/// <summary>nova-compute's topic: each message goes to the agent of the server's host.</summary>
public sealed class ComputeApi(IMessageBus bus) : RpcClient(bus, ComputeRpc.ComputeTopic, ComputeRpcJson.Default, ComputeRpc.CallTimeout);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InstanceFlavor))]
[JsonSerializable(typeof(IReadOnlyList<Network.RequestedNetwork>))]
[JsonSerializable(typeof(IReadOnlyList<Network.Vif>))]
[JsonSerializable(typeof(BuildInstance))]
[JsonSerializable(typeof(MigrateServer))]
[JsonSerializable(typeof(RevertResize))]
[JsonSerializable(typeof(BuildFailed))]
[JsonSerializable(typeof(InstanceUpdate))]
[JsonSerializable(typeof(InstanceDestroyed))]
[JsonSerializable(typeof(ServiceReport))]
[JsonSerializable(typeof(ComputeNodeUpdate))]
[JsonSerializable(typeof(InstancesOnHost))]
[JsonSerializable(typeof(List<HostInstance>))]
[JsonSerializable(typeof(SelectDestination))]
[JsonSerializable(typeof(Destination))]
[JsonSerializable(typeof(BuildAndRunInstance))]
[JsonSerializable(typeof(RebuildInstance))]
[JsonSerializable(typeof(ResizeInstance))]
[JsonSerializable(typeof(TerminateInstance))]
[JsonSerializable(typeof(ExternalInstanceEvent))]
[JsonSerializable(typeof(AttachInterface))]
[JsonSerializable(typeof(DetachInterface))]
[JsonSerializable(typeof(Network.Vif))]
[JsonSerializable(typeof(StopInstance))]
[JsonSerializable(typeof(StartInstance))]
[JsonSerializable(typeof(RebootInstance))]
[JsonSerializable(typeof(PauseInstance))]
[JsonSerializable(typeof(UnpauseInstance))]
[JsonSerializable(typeof(SuspendInstance))]
[JsonSerializable(typeof(ResumeInstance))]
[JsonSerializable(typeof(GetConsoleOutput))]
[JsonSerializable(typeof(GetHostUptime))]
[JsonSerializable(typeof(AttachVolume))]
[JsonSerializable(typeof(DetachVolume))]
[JsonSerializable(typeof(VolumeDetached))]
[JsonSerializable(typeof(BlockDeviceReady))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(RebootType))]
sealed partial class ComputeRpcJson : JsonSerializerContext;
