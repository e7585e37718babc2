using System.Globalization;
using System.Text.Json;
using Stratus.Core.Processes;

namespace Stratus.Network.DataPlane;

/// <summary>
/// Neutron's linuxbridge interface driver, which the DHCP and L3 agents share: a port's device in an agent's
/// namespace is one end of a veth pair (<c>ns-…</c>, <c>qr-…</c>, <c>qg-…</c> and the port id's first 11
/// characters) whose other end is the port's <c>tap…</c> in the host, which the Linux bridge agent plugs into
/// the network's bridge; <see cref="InitL3Async"/> gives the device exactly the addresses it should have.
/// </summary>
public sealed class InterfaceDriver(NetworkBridges bridges)
{
    public NetworkBridges Bridges => bridges;

    /// <summary>The device name of a port in an agent's namespace: the prefix and the port id's first 11 characters.</summary>
    public static string DeviceOf(string prefix, string portId) => prefix + portId[..Math.Min(11, portId.Length)];

    /// <summary>The host end of a device <see cref="DeviceOf"/> named.</summary>
    public static string TapOf(string device) => "tap" + device[(device.IndexOf('-', StringComparison.Ordinal) + 1)..];

    /// <summary>
    /// The port's veth pair, made where the namespace lacks it, with the port's MAC and the network's MTU, up.
    /// Where the network's bridge exists the tap goes into it at once; where it does not yet, the Linux bridge
    /// agent makes it (with its segment) when it sees the tap.
    /// </summary>
    public async Task PlugAsync(HostNetwork ns, string device, string networkId, string macAddress, int mtu, CancellationToken ct)
    {
        var tap = TapOf(device);
        var mtuText = mtu.ToString(CultureInfo.InvariantCulture);
        if (!(await ns.LinksAsync(ct)).Any(l => l.Name == device))
        {
            if (await bridges.ExistsAsync(tap, ct)) await bridges.DeleteDeviceAsync(tap, ct);
            await bridges.Host.IpAsync(ct, "link", "add", tap, "type", "veth", "peer", "name", device, "netns", ns.Namespace!);
        }
        await ns.IpAsync(ct, "link", "set", device, "address", macAddress, "mtu", mtuText, "up");
        await bridges.Host.IpAsync(ct, "link", "set", tap, "mtu", mtuText);
        if (await bridges.ExistsAsync(NetworkBridges.BridgeOf(networkId), ct)) await bridges.PlugAsync(tap, networkId, ct);
        else await bridges.Host.IpAsync(ct, "link", "set", tap, "up");
    }

    /// <summary>The device's global addresses made to be <paramref name="cidrs"/> (address/prefix), no more and no fewer; the ones it added.</summary>
    public static async Task<IReadOnlyList<string>> InitL3Async(HostNetwork ns, string device, IReadOnlyCollection<string> cidrs, CancellationToken ct)
    {
        var have = await AddressesAsync(ns, device, ct);
        foreach (var gone in have.Where(a => !cidrs.Contains(a))) await ns.IpAsync(ct, "addr", "del", gone, "dev", device);
        var added = cidrs.Where(a => !have.Contains(a)).ToList();
        foreach (var add in added) await ns.IpAsync(ct, "addr", "add", add, "dev", device);
        return added;
    }

    /// <summary>
    /// Neutron's send_ip_addr_adv_notif: gratuitous ARPs (iputils arping) for IPv4 addresses just added, so that
    /// neighbours that knew them elsewhere, or were still looking for them, learn them now. In the background, as
    /// Neutron sends them: arping waits for answers that never come; a failure only means neighbours learn later.
    /// </summary>
    public static void Announce(HostNetwork ns, string device, IEnumerable<string> cidrs)
    {
        foreach (var address in cidrs.Select(c => c.Split('/')[0]).Where(a => !a.Contains(':')))
            _ = HostCommand.RunAsync("ip", ["netns", "exec", ns.Namespace!, "arping", "-U", "-I", device, "-c", "3", "-w", "5", address], CancellationToken.None)
                .ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    public static async Task<IReadOnlyList<string>> AddressesAsync(HostNetwork ns, string device, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(await ns.IpAsync(ct, "-j", "addr", "show", "dev", device, "scope", "global"));
        // ip -j leaves an empty object for each address the scope filter drops.
        return [.. doc.RootElement.EnumerateArray().SelectMany(l => l.GetProperty("addr_info").EnumerateArray())
            .Where(a => a.TryGetProperty("local", out _))
            .Select(a => $"{a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}")];
    }

    /// <summary>
    /// The device gone, and its tap with it. The device is deleted by hand where its namespace still exists (a
    /// deleted namespace frees its devices only later, in the kernel's own time); a tap left by a plug that
    /// stopped half-way is deleted too.
    /// </summary>
    public async Task UnplugAsync(HostNetwork ns, string device, CancellationToken ct)
    {
        if (File.Exists(Path.Combine("/run/netns", ns.Namespace!)) && (await ns.LinksAsync(ct)).Any(l => l.Name == device))
            await ns.IpAsync(ct, "link", "delete", device);
        var tap = TapOf(device);
        if (await bridges.ExistsAsync(tap, ct)) await bridges.DeleteDeviceAsync(tap, ct);
    }
}
