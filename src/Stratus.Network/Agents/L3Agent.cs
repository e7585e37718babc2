using Microsoft.Extensions.Logging;
using Stratus.Core.Messaging;

namespace Stratus.Network.Agents;

/// <summary>
/// neutron-l3-agent: reports its mode, interface driver and zone, and how many routers, gateways,
/// interfaces and floating IPs it hosts (none yet). Its zone is what <c>availability_zones</c> lists for routers.
/// </summary>
public sealed class L3Agent(IMessageBus bus, TimeProvider time, NetworkOptions options, ILogger<L3Agent> log)
    : NeutronAgent(bus, time, options, log)
{
    public const string Type = "L3 agent";

    public override string Binary => NetworkOptions.L3Agent;
    public override string AgentType => Type;
    public override string Topic => AgentTopics.L3Agent;
    protected override AgentSettings Settings => Options.Agent.L3;
    protected override string? AvailabilityZone => Settings.AvailabilityZone;

    protected override JsonObject Configurations() => new()
    {
        ["agent_mode"] = Settings.AgentMode,
        ["handle_internal_only_routers"] = Settings.HandleInternalOnlyRouters,
        ["interface_driver"] = Settings.InterfaceDriver,
        ["log_agent_heartbeats"] = Settings.LogAgentHeartbeats,
        ["extensions"] = new JsonArray([.. Settings.Extensions.Select(e => (JsonNode)e)]),
        ["routers"] = 0,
        ["ex_gw_ports"] = 0,
        ["interfaces"] = 0,
        ["floating_ips"] = 0,
    };
}
