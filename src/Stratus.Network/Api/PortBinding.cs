using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Stratus.Network.Api;

/// <summary>
/// ML2's port binding with the linuxbridge mechanism driver: a port bound to a host gets
/// <c>binding:vif_type = bridge</c> when that host's Linux bridge agent is alive and reaches the
/// network's segment (a tunnel type it runs, or a physical network it maps), else <c>binding_failed</c>,
/// with the reason in the log as Neutron logs it.
/// </summary>
sealed class PortBinding(NetworkOptions options, NetworkStore store, TimeProvider time, ILogger<PortBinding> log)
{
    public const string AgentType = "Linux bridge agent";

    public bool IsAlive(AgentRow agent) => time.GetUtcNow().UtcDateTime - agent.HeartbeatTimestamp <= options.AgentDownTime;

    public async Task BindPortAsync(PortRow port, NetworkRow network, CancellationToken ct)
    {
        if (port.HostId.Length == 0)
        {
            port.VifType = "unbound";
            port.VifDetails = "{}";
            return;
        }
        var reason = await WhyUnboundAsync(port.HostId, network, ct);
        if (reason is null)
        {
            port.VifType = "bridge";
            port.VifDetails = """{"connectivity": "l2", "port_filter": true}""";
            return;
        }
        log.LogError("Failed to bind port {Port} on host {Host} for vnic_type {Vnic}: {Reason}", port.Id, port.HostId, port.VnicType, reason);
        port.VifType = "binding_failed";
        port.VifDetails = "{}";
    }

    /// <summary>Why a port of the network cannot be bound to the host now, or null when it can.</summary>
    public async Task<string?> WhyUnboundAsync(string host, NetworkRow network, CancellationToken ct)
    {
        var agent = await store.AgentAsync(AgentType, host, ct);
        return agent is null || !IsAlive(agent) ? $"no live {AgentType} on host {host}"
            : !agent.AdminStateUp ? $"the {AgentType} on host {host} is administratively down"
            : Reaches(agent, network) ? null
            : $"segment {network.NetworkType}{(network.PhysicalNetwork is { Length: > 0 } p ? ":" + p : "")} of network {network.Id} is unreachable from the {AgentType} on host {host}";
    }

    static bool Reaches(AgentRow agent, NetworkRow network)
    {
        var config = JsonNode.Parse(agent.Configurations) as JsonObject ?? [];
        return network.NetworkType switch
        {
            "local" => true,
            // The linuxbridge driver's mappings: the agent's interfaces and its existing bridges.
            "flat" or "vlan" => new[] { "interface_mappings", "bridge_mappings" }.Any(k => config[k] is JsonObject m && m.ContainsKey(network.PhysicalNetwork ?? "")),
            var tunnel => (config["tunnel_types"] as JsonArray ?? []).Any(t => t?.GetValueKind() == JsonValueKind.String && (string?)t == tunnel),
        };
    }
}
