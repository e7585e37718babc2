using Microsoft.Extensions.Logging;
using Stratus.Core.Messaging;
using Stratus.Core.Processes;
using Stratus.Network.DataPlane;

namespace Stratus.Network.Agents;

/// <summary>
/// neutron-linuxbridge-agent: reports the host's physical networks (interface and bridge mappings) and,
/// with <c>[vxlan] enable_vxlan</c>, its VXLAN endpoint; ML2's port binding reads these to decide whether a
/// port on this host reaches its network (<see cref="Api.PortBinding"/>). Every polling interval
/// (<c>[agent] polling_interval</c>) it looks at the host's tap devices, as Neutron's agent loop does, and at once
/// when the kernel says a tap came or went (<see cref="LinkEvents"/>: a booting guest does not wait for the next
/// pass): a new one is wired into its network's bridge (made with its segment's interface where missing) and
/// reported up, so its port goes ACTIVE and Nova hears network-vif-plugged; a gone one is reported down, and a
/// bridge this agent made that has no port left is removed with its vxlan interface. With a firewall driver
/// (<c>[securitygroup]</c>) every pass also asks the server for its devices' security groups and makes the
/// host's rules match (<see cref="PortFirewall"/>) — a new device's before it is wired; stopping, it removes them.
/// </summary>
public sealed class LinuxBridgeAgent(IMessageBus bus, TimeProvider time, NetworkOptions options, PluginApi plugin, ILogger<LinuxBridgeAgent> log)
    : NeutronAgent(bus, time, options, log)
{
    readonly TimeProvider _clock = time;
    readonly ILogger _log = log;

    readonly NetworkBridges _bridges = new(new HostNetwork(), options.LinuxBridge.LocalIp, options.LinuxBridge.PhysicalInterfaces);
    /// <summary>Devices wired and reported up, with their network; the bridges this agent made.</summary>
    readonly Dictionary<string, string> _devices = new(StringComparer.Ordinal);
    readonly HashSet<string> _made = new(StringComparer.Ordinal);
    readonly PortFirewall _firewall = new(new HostNetwork(), options.Host);

    string AgentId => "lb" + Options.Host;

    readonly IMessageBus _bus = bus;
    /// <summary>One change to the host at a time: the polling loop's, or a network deleted.</summary>
    readonly SemaphoreSlim _changing = new(1, 1);

    protected override Task ExecuteAsync(CancellationToken stop) =>
        StartError() is null ? Task.WhenAll(base.ExecuteAsync(stop), PollAsync(stop)) : base.ExecuteAsync(stop);

    async Task PollAsync(CancellationToken stop)
    {
        await using var deletes = await AgentNotifier.ServeNetworkDeleteAsync(_bus, Options.Host, NetworkDeletedAsync, stop);
        await using var links = new LinkEvents(name => name.StartsWith("tap", StringComparison.Ordinal), _log);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await LockedAsync(ScanAsync, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break; // a pass cut short by the stop still leaves the host clean below
            }
            catch (Exception e) when (e is HostCommandException or DataPlaneException or RpcTimeoutException or RpcRemoteException or IOException)
            {
                _log.LogError("Error in the Linux bridge agent loop on {Host}: {Error}", Options.Host, e.Message);
            }
            try
            {
                await links.NextAsync(Options.LinuxBridge.PollingInterval, _clock, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        // A stopping node leaves no rules and no empty bridge of its own behind (the DHCP agent, stopped first, took its taps).
        try
        {
            await _firewall.ReconcileAsync(PortFirewall.SecurityGroupInfo.None, CancellationToken.None);
        }
        catch (HostCommandException e)
        {
            _log.LogError("Unable to remove the security group rules of {Host}: {Error}", Options.Host, e.Message);
        }
        try
        {
            var present = (await _bridges.Host.LinksAsync(CancellationToken.None)).Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var gone in _devices.Keys.Where(d => !present.Contains(d)).ToList()) _devices.Remove(gone);
            await RemoveEmptyBridgesAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is HostCommandException or IOException)
        {
            _log.LogError("Unable to remove the bridges of {Host}: {Error}", Options.Host, e.Message);
        }
    }

    async Task LockedAsync(Func<CancellationToken, Task> change, CancellationToken ct)
    {
        await _changing.WaitAsync(ct);
        try
        {
            await change(ct);
        }
        finally
        {
            _changing.Release();
        }
    }

    /// <summary>As Neutron's network_delete: the network's bridge goes with its vxlan interface, whatever is still plugged in.</summary>
    Task NetworkDeletedAsync(NetworkDelete m, CancellationToken ct) => LockedAsync(async ct =>
    {
        var bridge = NetworkBridges.BridgeOf(m.NetworkId);
        foreach (var device in _devices.Where(d => d.Value == m.NetworkId).Select(d => d.Key).ToList()) _devices.Remove(device);
        _made.Remove(bridge);
        if (await _bridges.ExistsAsync(bridge, ct))
        {
            _log.LogInformation("Network {Network} deleted: removing bridge {Bridge} from {Host}", m.NetworkId, bridge, Options.Host);
            await _bridges.RemoveAsync(bridge, ct);
        }
    }, ct);

    /// <summary>One pass of the agent's loop: gone taps reported down, the firewall brought up to date, new taps wired and reported up, empty bridges removed.</summary>
    async Task ScanAsync(CancellationToken ct)
    {
        var links = await _bridges.Host.LinksAsync(ct);
        var taps = links.Where(l => l.Name.StartsWith("tap", StringComparison.Ordinal) && l.Kind is "tun" or "veth").Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _devices.Keys.Where(d => !taps.Contains(d)).ToList())
        {
            await plugin.CallAsync(new UpdateDeviceDown(AgentId, gone, Options.Host), ct);
            _devices.Remove(gone);
        }
        var added = taps.Where(t => !_devices.ContainsKey(t)).ToList();
        var details = added.Count > 0 ? await plugin.CallAsync(new GetDevicesDetailsList(AgentId, added, Options.Host), ct) : [];
        var wire = details.Where(d => d.NetworkId is not null).ToList();
        // As Neutron's agent, a device's filter is in place before the device is in its bridge.
        var filtered = _devices.Keys.Concat(wire.Select(d => d.Device)).ToList();
        await _firewall.ReconcileAsync(Options.LinuxBridge.FiltersPorts && filtered.Count > 0
            ? await plugin.CallAsync(new SecurityGroupInfoForDevices(filtered), ct)
            : PortFirewall.SecurityGroupInfo.None, ct);
        foreach (var d in wire)
        {
            var wiring = new NetworkBridges.Wiring(d.NetworkId!, d.NetworkType!, d.PhysicalNetwork, d.SegmentationId, d.Mtu);
            var bridge = NetworkBridges.BridgeOf(d.NetworkId!);
            if (!links.Any(l => l.Name == bridge)) _made.Add(bridge);
            try
            {
                await _bridges.EnsureAsync(wiring, ct);
                await _bridges.PlugAsync(d.Device, d.NetworkId!, ct);
            }
            catch (DataPlaneException e)
            {
                // As Neutron's agent: a device this host cannot wire (a physical network it does not map) is
                // reported down and left alone, and does not keep the other devices from being wired.
                _log.LogError("Unable to plug {Device} into the bridge of network {Network}: {Error}", d.Device, d.NetworkId, e.Message);
                await plugin.CallAsync(new UpdateDeviceDown(AgentId, d.Device, Options.Host), ct);
                _devices[d.Device] = d.NetworkId!;
                continue;
            }
            if (d.AdminStateUp) await plugin.CallAsync(new UpdateDeviceUp(AgentId, d.Device, Options.Host), ct);
            _devices[d.Device] = d.NetworkId!;
        }
        await RemoveEmptyBridgesAsync(ct);
    }

    /// <summary>The bridges this agent made that no device uses any more (only their vxlan interface left), removed.</summary>
    async Task RemoveEmptyBridgesAsync(CancellationToken ct)
    {
        var inUse = _devices.Values.Select(NetworkBridges.BridgeOf).ToHashSet(StringComparer.Ordinal);
        foreach (var bridge in _made.Where(b => !inUse.Contains(b)).ToList())
        {
            if ((await _bridges.MembersAsync(bridge, ct)).Any(m => !m.StartsWith("vxlan-", StringComparison.Ordinal))) continue;
            await _bridges.RemoveAsync(bridge, ct);
            _made.Remove(bridge);
        }
    }

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
        config["devices"] = _devices.Count;
        return config;
    }

    static JsonObject Mappings(IReadOnlyDictionary<string, string> map) =>
        new(map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));
}
