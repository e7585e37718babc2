using System.Globalization;
using Stratus.Core.Processes;

namespace Stratus.Network.DataPlane;

/// <summary>
/// The Linux bridge agent's bridges on its host, one per network that has ports here (<c>brq</c> and the
/// network id's first 11 characters), each with its segment's interface — <c>vxlan-VNI</c> from the
/// agent's <c>local_ip</c>, or the physical interface <c>physical_interface_mappings</c> names for a flat
/// network — and the ports' tap devices. It lists what the host has and makes it match what is wanted:
/// after a restart nothing is made twice and nothing of a gone network is left.
/// </summary>
public sealed class NetworkBridges(HostNetwork host, string? localIp, IReadOnlyDictionary<string, string> physicalInterfaces)
{
    public const int VxlanPort = 4789;

    /// <summary>What a network's bridge is wired to: its segment and MTU.</summary>
    public sealed record Wiring(string NetworkId, string NetworkType, string? PhysicalNetwork, int? SegmentationId, int Mtu);

    public static string BridgeOf(string networkId) => "brq" + networkId[..Math.Min(11, networkId.Length)];
    public static string TapOf(string portId) => "tap" + portId[..Math.Min(11, portId.Length)];
    public static string VxlanOf(int vni) => "vxlan-" + vni.ToString(CultureInfo.InvariantCulture);

    public HostNetwork Host => host;

    /// <summary>The networks' bridges the host has now.</summary>
    public async Task<IReadOnlyList<string>> BridgesAsync(CancellationToken ct) =>
        [.. (await host.LinksAsync(ct)).Where(l => l.Kind == "bridge" && l.Name.StartsWith("brq", StringComparison.Ordinal)).Select(l => l.Name).Order(StringComparer.Ordinal)];

    /// <summary>The devices plugged into a bridge.</summary>
    public async Task<IReadOnlyList<string>> MembersAsync(string bridge, CancellationToken ct) =>
        [.. (await host.LinksAsync(ct)).Where(l => l.Master == bridge).Select(l => l.Name).Order(StringComparer.Ordinal)];

    public async Task<bool> ExistsAsync(string device, CancellationToken ct) => (await host.LinksAsync(ct)).Any(l => l.Name == device);

    /// <summary>The segment's interface of a network on this host; a clear error when the host cannot reach the segment.</summary>
    public string SegmentInterface(Wiring w) => w.NetworkType switch
    {
        "vxlan" when localIp is null => throw new DataPlaneException($"network {w.NetworkId} is vxlan but [vxlan] local_ip is not set in linuxbridge_agent.ini"),
        "vxlan" => VxlanOf(w.SegmentationId ?? throw new DataPlaneException($"vxlan network {w.NetworkId} has no VNI")),
        "flat" => physicalInterfaces.GetValueOrDefault(w.PhysicalNetwork ?? "")
            ?? throw new DataPlaneException($"physical network {w.PhysicalNetwork} of network {w.NetworkId} is not in [linux_bridge] physical_interface_mappings"),
        "vlan" => throw new DataPlaneException($"network {w.NetworkId} is a VLAN network: this host cannot create VLAN interfaces (the kernel has no 8021q module)"),
        "local" => "",
        var t => throw new DataPlaneException($"network type {t} of network {w.NetworkId} is not supported by the Linux bridge agent"),
    };

    /// <summary>The network's bridge, up, with its segment's interface in it (made where missing).</summary>
    public async Task EnsureAsync(Wiring w, CancellationToken ct)
    {
        var bridge = BridgeOf(w.NetworkId);
        var segment = SegmentInterface(w);
        var mtu = w.Mtu.ToString(CultureInfo.InvariantCulture);
        if (!await ExistsAsync(bridge, ct)) await AddAsync(bridge, ct, "link", "add", "name", bridge, "type", "bridge");
        if (segment.Length > 0)
        {
            if (w.NetworkType == "vxlan" && !await ExistsAsync(segment, ct))
                await AddAsync(segment, ct, "link", "add", segment, "type", "vxlan", "id", w.SegmentationId!.Value.ToString(CultureInfo.InvariantCulture),
                    "local", localIp!, "dstport", VxlanPort.ToString(CultureInfo.InvariantCulture), "nolearning");
            if (!await ExistsAsync(segment, ct)) throw new DataPlaneException($"interface {segment} of network {w.NetworkId} does not exist on this host");
            if (w.NetworkType == "vxlan") await host.IpAsync(ct, "link", "set", segment, "mtu", mtu);
            await host.IpAsync(ct, "link", "set", segment, "master", bridge, "up");
        }
        await host.IpAsync(ct, "link", "set", bridge, "mtu", mtu, "up");
    }

    /// <summary>A port's device into its network's bridge, up.</summary>
    public async Task PlugAsync(string device, string networkId, CancellationToken ct)
    {
        if (!await ExistsAsync(device, ct)) throw new DataPlaneException($"device {device} does not exist on this host");
        await host.IpAsync(ct, "link", "set", device, "master", BridgeOf(networkId), "up");
    }

    /// <summary>The network's bridge and its vxlan interface, gone (a flat network's physical interface is only released).</summary>
    public async Task RemoveAsync(string bridge, CancellationToken ct)
    {
        foreach (var member in (await MembersAsync(bridge, ct)).Where(m => m.StartsWith("vxlan-", StringComparison.Ordinal)))
            await DeleteDeviceAsync(member, ct);
        await DeleteDeviceAsync(bridge, ct);
    }

    /// <summary>
    /// The host made to match <paramref name="wanted"/>: each wanted network's bridge ensured, every other
    /// <c>brq</c> bridge removed with its vxlan interface, and vxlan interfaces in no bridge deleted.
    /// </summary>
    public async Task ReconcileAsync(IReadOnlyCollection<Wiring> wanted, CancellationToken ct)
    {
        var keep = wanted.Select(w => BridgeOf(w.NetworkId)).ToHashSet(StringComparer.Ordinal);
        foreach (var bridge in (await BridgesAsync(ct)).Where(b => !keep.Contains(b))) await RemoveAsync(bridge, ct);
        foreach (var w in wanted) await EnsureAsync(w, ct);
        var wantedVxlans = wanted.Where(w => w.NetworkType == "vxlan" && w.SegmentationId is not null).Select(w => VxlanOf(w.SegmentationId!.Value)).ToHashSet();
        foreach (var stray in (await host.LinksAsync(ct)).Where(l => l.Kind == "vxlan" && l.Name.StartsWith("vxlan-", StringComparison.Ordinal) && !wantedVxlans.Contains(l.Name)))
            await DeleteDeviceAsync(stray.Name, ct);
    }

    /// <summary>l2population's flooding entry: broadcasts of a vxlan network also go to another host's VTEP.</summary>
    public Task AddFloodEntryAsync(int vni, string remoteIp, CancellationToken ct) =>
        host.Namespace is null
            ? HostCommand.RunAsync("bridge", ["fdb", "append", "00:00:00:00:00:00", "dev", VxlanOf(vni), "dst", remoteIp], ct)
            : HostCommand.RunAsync("ip", ["netns", "exec", host.Namespace, "bridge", "fdb", "append", "00:00:00:00:00:00", "dev", VxlanOf(vni), "dst", remoteIp], ct);

    /// <summary>A device of the host deleted; one gone meanwhile (with its peer, its namespace) is no error.</summary>
    public async Task DeleteDeviceAsync(string device, CancellationToken ct)
    {
        try
        {
            await host.IpAsync(ct, "link", "delete", device);
        }
        catch (HostCommandException)
        {
            // Gone meanwhile is what we wanted; anything else is the agent's to hear of.
            if (await ExistsAsync(device, ct)) throw;
        }
    }

    async Task AddAsync(string device, CancellationToken ct, params string[] args)
    {
        try
        {
            await host.IpAsync(ct, args);
        }
        catch (HostCommandException)
        {
            // Made by a guest's plug between our look and our add is fine; anything else is not.
            if (!await ExistsAsync(device, ct)) throw;
        }
    }
}

/// <summary>The host cannot be made to carry a network as asked; the message says what to fix.</summary>
public sealed class DataPlaneException(string message) : Exception(message);
