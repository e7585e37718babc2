using Microsoft.Extensions.Logging;
using Stratus.Core.Messaging;
using Stratus.Core.Processes;
using Stratus.Network.DataPlane;

namespace Stratus.Network.Agents;

/// <summary>
/// neutron-dhcp-agent: reports its driver, lease time and zone, and how many networks, subnets and ports
/// it serves; every resync it asks neutron-server for the networks with a DHCP-enabled subnet and makes
/// the host's dnsmasq servers match (<see cref="DhcpServers"/>: a qdhcp namespace per network, its DHCP
/// port's veth in the network's bridge). Its zone is what <c>availability_zones</c> lists for networks.
/// </summary>
public sealed class DhcpAgent(IMessageBus bus, TimeProvider time, NetworkOptions options, DhcpPluginApi plugin, ILogger<DhcpAgent> log)
    : NeutronAgent(bus, time, options, log)
{
    static readonly TimeSpan ResyncInterval = TimeSpan.FromSeconds(3);

    readonly TimeProvider _clock = time;
    readonly ILogger _log = log;
    readonly DhcpServers _servers = new(new NetworkBridges(new HostNetwork(), options.LinuxBridge.LocalIp, options.LinuxBridge.PhysicalInterfaces),
        Path.Combine(options.StatePath, "dhcp"), options.Agent.Dhcp.DhcpLeaseDuration,
        metadata: new(new MetadataProxies(Path.Combine(options.StatePath, "ns-metadata-proxy"), options.Agent.Dhcp.MetadataProxySocket),
            options.Agent.Dhcp.EnableIsolatedMetadata, options.Agent.Dhcp.ForceMetadata), logDirectory: options.Agent.Dhcp.DnsmasqBaseLogDir);
    IReadOnlyList<DhcpServers.Network> _serving = [];

    protected override Task ExecuteAsync(CancellationToken stop) => Task.WhenAll(base.ExecuteAsync(stop), SyncAsync(stop));

    async Task SyncAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var wanted = await plugin.CallAsync(new GetActiveNetworksInfo(Options.Host), stop);
                await _servers.ReconcileAsync(wanted, stop);
                _serving = wanted;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is HostCommandException or DataPlaneException or RpcTimeoutException or RpcRemoteException or IOException)
            {
                _log.LogError("Unable to sync network state on {Host}: {Error}", Options.Host, e.Message);
            }
            try
            {
                await Task.Delay(ResyncInterval, _clock, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        // Stopping the agent stops what it started (dnsmasq, namespaces): a node that stops leaves the host as it found it.
        try
        {
            await _servers.ReconcileAsync([], CancellationToken.None);
        }
        catch (Exception e) when (e is HostCommandException or DataPlaneException or IOException)
        {
            _log.LogError("Unable to stop the DHCP servers of {Host}: {Error}", Options.Host, e.Message);
        }
    }

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
        ["networks"] = _serving.Count,
        ["subnets"] = _serving.Sum(n => n.Subnets.Count),
        ["ports"] = _serving.Sum(n => n.Ports.Count + 1),
    };
}
