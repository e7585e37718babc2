using Microsoft.Extensions.Logging;
using Stratus.Core.Messaging;
using Stratus.Core.Processes;
using Stratus.Network.DataPlane;

namespace Stratus.Network.Agents;

/// <summary>
/// neutron-l3-agent (legacy mode, linuxbridge interface driver): reports its mode, interface driver and zone,
/// and how many routers, gateways, interfaces and floating IPs it hosts; every resync it asks neutron-server
/// for its routers (sync_routers, after get_router_ids when it starts or failed, which schedules the routers
/// no agent hosts to it) and makes the host's router namespaces match (<see cref="RouterNamespaces"/>),
/// then tells the server which floating IPs went ACTIVE or DOWN. Its zone is what <c>availability_zones</c>
/// lists for routers. Stopping it removes what it made, as the DHCP agent does.
/// </summary>
public sealed class L3Agent(IMessageBus bus, TimeProvider time, NetworkOptions options, L3PluginApi plugin, ILogger<L3Agent> log)
    : NeutronAgent(bus, time, options, log)
{
    static readonly TimeSpan ResyncInterval = TimeSpan.FromSeconds(3);

    readonly TimeProvider _clock = time;
    readonly ILogger _log = log;
    readonly RouterNamespaces _routers = new(new NetworkBridges(new HostNetwork(), options.LinuxBridge.LocalIp, options.LinuxBridge.PhysicalInterfaces),
        Path.Combine(options.StatePath, "l3"),
        options.Agent.L3.EnableMetadataProxy
            ? new(new MetadataProxies(Path.Combine(options.StatePath, "ns-metadata-proxy"), options.Agent.L3.MetadataProxySocket), options.Agent.L3.MetadataPort)
            : null);
    IReadOnlyList<RouterNamespaces.Router> _hosting = [];
    /// <summary>The status each floating IP served was last reported with, so that only changes go to the server.</summary>
    readonly Dictionary<string, RouterNamespaces.FloatingIpStatus> _reported = new(StringComparer.Ordinal);
    readonly Dictionary<string, RouterNamespaces.FloatingIpStatus> _unreported = new(StringComparer.Ordinal);

    protected override Task ExecuteAsync(CancellationToken stop) => Task.WhenAll(base.ExecuteAsync(stop), SyncAsync(stop));

    async Task SyncAsync(CancellationToken stop)
    {
        var fullSync = true;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (fullSync) await plugin.CallAsync(new GetRouterIds(Options.Host), stop);
                fullSync = false;
                var wanted = await plugin.CallAsync(new SyncRouters(Options.Host), stop);
                var done = await _routers.ReconcileAsync(wanted, stop);
                _hosting = wanted;
                foreach (var (router, error) in done.Failures)
                    _log.LogError("Failed to process router {Router} on {Host}: {Error}", router, Options.Host, error);
                await ReportAsync(done.FloatingIps, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (RpcRemoteException e) when (e.RemoteType == nameof(AgentNotFoundByTypeHost))
            {
                // The server has not had this agent's first report yet.
                _log.LogInformation("{Type} on {Host} waits for its registration: {Error}", Type, Options.Host, e.Message);
                fullSync = true;
            }
            catch (Exception e) when (e is HostCommandException or DataPlaneException or RpcTimeoutException or RpcRemoteException or IOException)
            {
                _log.LogError("Unable to sync routers on {Host}: {Error}", Options.Host, e.Message);
                fullSync = true;
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
        // Stopping the agent removes what it made (namespaces, devices, proxies): a node that stops leaves the host as it found it.
        try
        {
            var done = await _routers.ReconcileAsync([], CancellationToken.None);
            _hosting = [];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await ReportAsync(done.FloatingIps, timeout.Token);
        }
        catch (Exception e) when (e is HostCommandException or DataPlaneException or IOException or RpcTimeoutException or RpcRemoteException or OperationCanceledException)
        {
            _log.LogError("Unable to remove the routers of {Host}: {Error}", Options.Host, e.Message);
        }
    }

    /// <summary>update_floatingip_statuses per router, for the floating IPs whose status changed since last told.</summary>
    async Task ReportAsync(IReadOnlyList<RouterNamespaces.FloatingIpStatus> statuses, CancellationToken ct)
    {
        // A floating IP that moved between two of this agent's routers is DOWN on one and ACTIVE on the other: ACTIVE wins.
        foreach (var s in statuses.OrderBy(s => s.Status == "ACTIVE"))
            if (_reported.GetValueOrDefault(s.FloatingIpId) != s) _unreported[s.FloatingIpId] = s;
            else _unreported.Remove(s.FloatingIpId);
        foreach (var router in _unreported.Values.GroupBy(s => s.RouterId).ToList())
        {
            await plugin.CallAsync(new UpdateFloatingipStatuses(router.Key, router.ToDictionary(s => s.FloatingIpId, s => s.Status)), ct);
            foreach (var s in router)
            {
                // A floating IP told DOWN is no longer this agent's to follow.
                if (s.Status == "ACTIVE") _reported[s.FloatingIpId] = s;
                else _reported.Remove(s.FloatingIpId);
                _unreported.Remove(s.FloatingIpId);
            }
        }
    }

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
        ["routers"] = _hosting.Count,
        ["ex_gw_ports"] = _hosting.Count(r => r.GatewayPort is not null),
        ["interfaces"] = _hosting.Sum(r => r.Interfaces.Count),
        ["floating_ips"] = _hosting.Sum(r => r.FloatingIps.Count),
    };
}
