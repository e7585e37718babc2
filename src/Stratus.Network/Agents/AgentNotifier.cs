using System.Text.Json.Serialization;
using Stratus.Core.Messaging;

namespace Stratus.Network.Agents;

/// <summary>neutron-server's fanout to the L2 agents that a network is gone (Neutron's AgentNotifierApi.network_delete).</summary>
public sealed record NetworkDelete(string NetworkId) : IRpcCast;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(NetworkDelete))]
sealed partial class AgentNotifierJson : JsonSerializerContext;

/// <summary>
/// What neutron-server tells every L2 agent on <c>q-agent-notifier-network-delete</c>: each removes the
/// network's bridge from its host at once (its next poll would only see the taps go, not the network).
/// </summary>
public sealed class AgentNotifier(IMessageBus bus)
{
    public static readonly string NetworkDeleteTopic = AgentTopics.Name(AgentTopics.AgentNotifier, "network", "delete");

    readonly RpcClient _networkDelete = new(bus, NetworkDeleteTopic, AgentNotifierJson.Default, TimeSpan.FromSeconds(60));

    public Task NetworkDeleteAsync(string networkId, CancellationToken ct) => _networkDelete.FanoutAsync(new NetworkDelete(networkId), ct);

    /// <summary>An agent's side: <paramref name="handle"/> for each network deleted, until <paramref name="stop"/>.</summary>
    public static Task<IAsyncDisposable> ServeNetworkDeleteAsync(IMessageBus bus, string host, Func<NetworkDelete, CancellationToken, Task> handle, CancellationToken stop) =>
        bus.ServeAsync(NetworkDeleteTopic, host, new RpcDispatcher(NetworkOptions.LinuxBridgeAgent, AgentNotifierJson.Default).On(handle).DispatchAsync, stop);
}
