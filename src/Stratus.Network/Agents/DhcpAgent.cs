using Microsoft.Extensions.Logging;
using Stratus.Core.Messaging;

namespace Stratus.Network.Agents;

/// <summary>
/// neutron-dhcp-agent: reports its driver, lease time and zone, and how many networks, subnets and
/// ports it serves (none yet: Stratus runs no dnsmasq). Its zone is what <c>availability_zones</c> lists for networks.
/// </summary>
public sealed class DhcpAgent(IMessageBus bus, TimeProvider time, NetworkOptions options, ILogger<DhcpAgent> log)
    : NeutronAgent(bus, time, options, log)
{
    public const string Type = "DHCP agent";

    public override string Binary => NetworkOptions.DhcpAgent;
    public override string AgentType => Type;
    public override string Topic => AgentTopics.DhcpAgent;
    protected override AgentSettings Settings => Options.Agent.Dhcp;
    protected override string? AvailabilityZone => Settings.AvailabilityZone;

    protected override JsonObject Configurations() => new()
    {
        ["dhcp_driver"] = Settings.DhcpDriver,
        ["dhcp_lease_duration"] = Settings.DhcpLeaseDuration,
        ["log_agent_heartbeats"] = Settings.LogAgentHeartbeats,
        ["networks"] = 0,
        ["subnets"] = 0,
        ["ports"] = 0,
    };
}
