using System.Text.Json.Serialization;
using Stratus.Core.Messaging;

namespace Stratus.BlockStorage.Rpc;

/// <summary>
/// The RPC topics of Cinder's services: the API casts creates to <c>cinder-scheduler</c>, which picks a
/// backend and casts to <c>cinder-volume</c> on server <c>host@backend</c>; everything else about an
/// existing volume goes straight to the backend that holds it, as Cinder's volume rpcapi does.
/// </summary>
public static class VolumeRpc
{
    public const string SchedulerTopic = "cinder-scheduler", VolumeTopic = "cinder-volume";

    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);
}

public sealed class SchedulerApi(IMessageBus bus) : RpcClient(bus, VolumeRpc.SchedulerTopic, VolumeRpcJson.Default, VolumeRpc.CallTimeout);

public sealed class VolumeApi(IMessageBus bus) : RpcClient(bus, VolumeRpc.VolumeTopic, VolumeRpcJson.Default, VolumeRpc.CallTimeout);

/// <summary>
/// Make a volume that the API recorded as creating: empty, or from <see cref="SourceVolId"/>, <see cref="SnapshotId"/>
/// or an image read at <see cref="ImageEndpoint"/> with the user's <see cref="Token"/> (oslo's context carries it).
/// </summary>
public sealed record CreateVolume(string VolumeId, string? ImageEndpoint = null, string? Token = null, string? RequestId = null) : IRpcCast;

public sealed record DeleteVolume(string VolumeId) : IRpcCast;

public sealed record ExtendVolume(string VolumeId, int NewSize, string ReturnStatus) : IRpcCast;

public sealed record CreateSnapshot(string SnapshotId) : IRpcCast;

public sealed record DeleteSnapshot(string SnapshotId) : IRpcCast;

/// <summary>Make a group the API recorded as creating: to the scheduler to place it, then to its backend, which makes the volumes it copies from a source.</summary>
public sealed record CreateGroup(string GroupId) : IRpcCast;

public sealed record DeleteGroup(string GroupId) : IRpcCast;

public sealed record CreateGroupSnapshot(string GroupSnapshotId) : IRpcCast;

public sealed record DeleteGroupSnapshot(string GroupSnapshotId) : IRpcCast;

/// <summary>The connection info of a volume for a connector (os-brick's), as the driver exports it.</summary>
public sealed record InitializeConnection(string VolumeId, string? Connector) : IRpcCall<VolumeConnection>;

public sealed record VolumeConnection(string Json);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateVolume))]
[JsonSerializable(typeof(DeleteVolume))]
[JsonSerializable(typeof(ExtendVolume))]
[JsonSerializable(typeof(CreateSnapshot))]
[JsonSerializable(typeof(DeleteSnapshot))]
[JsonSerializable(typeof(CreateGroup))]
[JsonSerializable(typeof(DeleteGroup))]
[JsonSerializable(typeof(CreateGroupSnapshot))]
[JsonSerializable(typeof(DeleteGroupSnapshot))]
[JsonSerializable(typeof(InitializeConnection))]
[JsonSerializable(typeof(VolumeConnection))]
public sealed partial class VolumeRpcJson : JsonSerializerContext;
