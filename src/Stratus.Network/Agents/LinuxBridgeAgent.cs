using Microsoft.Extensions.Logging;
using Stratus.Core.Messaging;

namespace Stratus.Network.Agents;

/// <summary>
/// neutron-linuxbridge-agent: reports the host's physical networks (interface and bridge mappings) and,
/// with <c>[vxlan] enable_vxlan</c>, its VXLAN endpoint. ML2's port binding reads these to decide
/// whether a port on this host reaches its network (<see cref="Api.PortBinding"/>). Stratus builds no
/// bridges yet, so the host has no devices to count.
/// </summary>
public sealed class LinuxBridgeAgent(IMessageBus bus, TimeProvider time, NetworkOptions options, ILogger<LinuxBridgeAgent> log)
    : NeutronAgent(bus, time, options, log)
{
    public const string Type = "Linux bridge agent";

    public override string Binary => NetworkOptions.LinuxBridgeAgent;
    public override string AgentType => Type;
    public override string Topic => AgentTopics.NotApplicable;
    protected override AgentSettings Settings => Options.Agent.LinuxBridge;

    /// <summary>As Neutron's agent exits: VXLAN needs the address of one of the host's interfaces.</summary>
    protected override string? StartError() =>
        Options.LinuxBridge.EnableVxlan && string.IsNullOrEmpty(Options.LinuxBridge.LocalIp)
            ? "Tunneling cannot be enabled without the local_ip bound to an interface on the host. Please configure local_ip on the host interface to be used for tunneling and restart the agent."
            : null;

    protected override JsonObject Configurations()
    {
        var lb = Options.LinuxBridge;
        var config = new JsonObject
        {
            ["extensions"] = new JsonArray([.. Settings.Extensions.Select(e => (JsonNode)e)]),
            ["bridge_mappings"] = Mappings(lb.BridgeMappings),
            ["interface_mappings"] = Mappings(lb.PhysicalInterfaces),
        };
        if (lb.EnableVxlan)
        {
            config["tunneling_ip"] = lb.LocalIp;
            config["tunnel_types"] = new JsonArray("vxlan");
            config["l2_population"] = lb.L2Population;
        }
        config["devices"] = 0;
        return config;
    }

    static JsonObject Mappings(IReadOnlyDictionary<string, string> map) =>
        new(map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));
}
