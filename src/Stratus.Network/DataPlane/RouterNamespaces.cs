using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Stratus.Core.Processes;
using Stratus.Network.Ipam;

namespace Stratus.Network.DataPlane;

/// <summary>
/// The L3 agent's routers on its host, as Neutron's legacy router with the linuxbridge interface driver:
/// per router a namespace <c>qrouter-ROUTER</c> that forwards; per interface a veth pair (<c>tap…</c> in the
/// host, which the Linux bridge agent plugs into the network's bridge, <c>qr-…</c> in the namespace with the
/// port's MAC and the subnets' gateway addresses); the gateway <c>qg-…</c> on the external network with its
/// addresses, the floating IPs (as /32) and the default route; the extra routes; and an nftables table in
/// the namespace with Neutron's iptables rules (SNAT of the internal subnets to the gateway address, DNAT
/// and SNAT of each floating IP, the metadata redirect to the router's proxy on 9697). It lists what it made
/// (the state directory names it) and makes it match what is wanted; namespaces it did not make are never touched.
/// </summary>
public sealed class RouterNamespaces(NetworkBridges bridges, string stateDirectory, RouterNamespaces.MetadataSettings? metadata = null)
{
    public const string NamespacePrefix = "qrouter-";
    public const string InternalPrefix = "qr-";
    public const string ExternalPrefix = "qg-";
    /// <summary>The nftables table holding the router's rules, as Neutron's chains are named.</summary>
    public const string Table = "neutron-l3-agent";
    /// <summary>Neutron's external_ingress_mark and the metadata mark, in the low 16 bits of the packet mark.</summary>
    const string ExternalIngressMark = "0x2", MetadataMark = "0x1";
    const string Active = "ACTIVE", Down = "DOWN";

    readonly InterfaceDriver driver = new(bridges);
    /// <summary>Each router as last made, so that an unchanged router costs no command (Neutron processes a router when it changes).</summary>
    readonly Dictionary<string, string> _made = new(StringComparer.Ordinal);

    /// <summary>l3_agent.ini's metadata proxy: the proxies, and the port the router's proxy listens on (Neutron's metadata_port).</summary>
    public sealed record MetadataSettings(MetadataProxies Proxies, int Port = 9697);

    public sealed record Subnet(string Id, string Cidr, string? GatewayIp);

    public sealed record FixedIp(string SubnetId, string IpAddress, int PrefixLength);

    /// <summary>A router port: its network's MTU, its addresses and the subnets they are on.</summary>
    public sealed record Port(string Id, string NetworkId, string MacAddress, int Mtu, IReadOnlyList<FixedIp> FixedIps, IReadOnlyList<Subnet> Subnets);

    public sealed record Route(string Destination, string Nexthop);

    public sealed record FloatingIp(string Id, string FloatingIpAddress, string FixedIpAddress);

    /// <summary>A router as neutron-server's sync_routers gives it to the agent hosting it.</summary>
    public sealed record Router(string Id, bool EnableSnat, [property: JsonPropertyName("gw_port")] Port? GatewayPort,
        [property: JsonPropertyName("_interfaces")] IReadOnlyList<Port> Interfaces, IReadOnlyList<Route> Routes,
        [property: JsonPropertyName("_floatingips")] IReadOnlyList<FloatingIp> FloatingIps);

    public sealed record FloatingIpStatus(string RouterId, string FloatingIpId, string Status);

    /// <summary>A router as the host has it now.</summary>
    public sealed record Hosted(string RouterId, string Namespace, IReadOnlyList<string> Devices, int? ProxyPid);

    /// <summary>What a reconcile did: each floating IP it serves ACTIVE and each it stopped serving DOWN; the routers it could not make, with why.</summary>
    public sealed record Reconciled(IReadOnlyList<FloatingIpStatus> FloatingIps, IReadOnlyDictionary<string, string> Failures);

    public static string NamespaceOf(string routerId) => NamespacePrefix + routerId;

    string StateOf(string routerId) => Path.Combine(stateDirectory, routerId);
    string FileOf(string routerId, string kind) => Path.Combine(StateOf(routerId), kind);

    IEnumerable<string> OwnRouters() =>
        Directory.Exists(stateDirectory)
            ? Directory.EnumerateDirectories(stateDirectory).Select(Path.GetFileName).Where(d => Guid.TryParse(d, out _)).Select(d => d!).Order(StringComparer.Ordinal).ToList()
            : [];

    static bool NamespaceExists(string ns) => File.Exists(Path.Combine("/run/netns", ns));

    /// <summary>The routers this agent made (one state directory each), with their devices and metadata proxy.</summary>
    public async Task<IReadOnlyList<Hosted>> ListAsync(CancellationToken ct)
    {
        var hosted = new List<Hosted>();
        foreach (var id in OwnRouters())
        {
            var ns = new HostNetwork(NamespaceOf(id));
            IReadOnlyList<string> devices = NamespaceExists(ns.Namespace!) ? await RouterDevicesAsync(ns, ct) : [];
            hosted.Add(new Hosted(id, ns.Namespace!, devices, metadata?.Proxies.RunningPid(id)));
        }
        return hosted;
    }

    static async Task<List<string>> RouterDevicesAsync(HostNetwork ns, CancellationToken ct) =>
        [.. (await ns.LinksAsync(ct)).Select(l => l.Name)
            .Where(n => n.StartsWith(InternalPrefix, StringComparison.Ordinal) || n.StartsWith(ExternalPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    /// <summary>
    /// The host made to match <paramref name="wanted"/>: each router made or brought up to date, every other
    /// router this agent made removed with its namespace, devices and proxy. A router that fails is reported
    /// and does not stop the others.
    /// </summary>
    public async Task<Reconciled> ReconcileAsync(IReadOnlyCollection<Router> wanted, CancellationToken ct)
    {
        var statuses = new List<FloatingIpStatus>();
        var failures = new Dictionary<string, string>(StringComparer.Ordinal);
        var keep = wanted.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var id in OwnRouters().Where(id => !keep.Contains(id)))
        {
            try
            {
                statuses.AddRange(await RemoveAsync(id, ct));
            }
            catch (Exception e) when (e is HostCommandException or DataPlaneException or IOException)
            {
                failures[id] = e.Message;
            }
        }
        foreach (var r in wanted)
        {
            try
            {
                statuses.AddRange(await EnsureAsync(r, ct));
            }
            catch (Exception e) when (e is HostCommandException or DataPlaneException or IOException)
            {
                failures[r.Id] = e.Message;
            }
        }
        return new Reconciled(statuses, failures);
    }

    /// <summary>One router made or brought up to date; its floating IPs' statuses (DOWN for those it no longer serves).</summary>
    public async Task<IReadOnlyList<FloatingIpStatus>> EnsureAsync(Router r, CancellationToken ct)
    {
        if (!Guid.TryParse(r.Id, out _)) throw new DataPlaneException($"router id {r.Id} is not a UUID");
        var ns = new HostNetwork(NamespaceOf(r.Id));
        var made = JsonSerializer.Serialize(r, RouterJson.Default.Router);
        var served = r.FloatingIps.Select(f => new FloatingIpStatus(r.Id, f.Id, Active)).ToList();
        if (_made.GetValueOrDefault(r.Id) == made && NamespaceExists(ns.Namespace!) && (metadata is null || metadata.Proxies.RunningPid(r.Id) is not null))
            return served;
        _made.Remove(r.Id);

        // The state directory first: it is what marks the namespace as ours, even if we stop half-way.
        Directory.CreateDirectory(StateOf(r.Id));
        await ns.EnsureNamespaceAsync(ct);
        string[] sysctls = ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"];
        if (Directory.Exists("/proc/sys/net/ipv6")) sysctls = [.. sysctls, "net.ipv6.conf.all.forwarding=1"];
        await HostCommand.RunAsync("ip", ["netns", "exec", ns.Namespace!, "sysctl", "-q", "-w", .. sysctls], ct);

        var devices = new List<string>();
        foreach (var port in r.Interfaces)
        {
            var device = InterfaceDriver.DeviceOf(InternalPrefix, port.Id);
            devices.Add(device);
            await driver.PlugAsync(ns, device, port.NetworkId, port.MacAddress, port.Mtu, ct);
            InterfaceDriver.Announce(ns, device, await InterfaceDriver.InitL3Async(ns, device, Cidrs(port).ToList(), ct));
        }
        if (r.GatewayPort is { } gw)
        {
            var device = InterfaceDriver.DeviceOf(ExternalPrefix, gw.Id);
            devices.Add(device);
            await driver.PlugAsync(ns, device, gw.NetworkId, gw.MacAddress, gw.Mtu, ct);
            InterfaceDriver.Announce(ns, device, await InterfaceDriver.InitL3Async(ns, device, [.. Cidrs(gw), .. r.FloatingIps.Select(f => f.FloatingIpAddress + "/32")], ct));
            foreach (var gateway in Gateways(gw))
                await ns.IpAsync(ct, gateway.Contains(':') ? "-6" : "-4", "route", "replace", "default", "via", gateway, "dev", device);
        }
        await File.WriteAllLinesAsync(FileOf(r.Id, "devices"), devices, ct);
        foreach (var stale in (await RouterDevicesAsync(ns, ct)).Where(d => !devices.Contains(d))) await driver.UnplugAsync(ns, stale, ct);

        await RoutesAsync(ns, r.Routes, ct);
        var rules = FileOf(r.Id, "nat.nft");
        await File.WriteAllTextAsync(rules, NatRules(r), ct);
        // One transaction: the old table goes and the new one comes at once, so a rule is never doubled nor missing.
        await HostCommand.RunAsync("ip", ["netns", "exec", ns.Namespace!, "nft", "-f", rules], ct);
        if (metadata is not null)
            await metadata.Proxies.EnsureAsync(new MetadataProxies.Proxy(r.Id, ns.Namespace!, ForRouter: true, BindHost: "0.0.0.0", BindPort: metadata.Port), ct);

        var gone = (await ServedAsync(r.Id, ct)).Where(id => !r.FloatingIps.Any(f => f.Id == id)).Select(id => new FloatingIpStatus(r.Id, id, Down));
        var statuses = served.Concat(gone).ToList();
        await File.WriteAllLinesAsync(FileOf(r.Id, "floatingips"), r.FloatingIps.Select(f => f.Id), ct);
        _made[r.Id] = made;
        return statuses;
    }

    /// <summary>A router gone: its proxy stopped, its devices, namespace and state deleted; its floating IPs DOWN.</summary>
    public async Task<IReadOnlyList<FloatingIpStatus>> RemoveAsync(string routerId, CancellationToken ct)
    {
        _made.Remove(routerId);
        var statuses = (await ServedAsync(routerId, ct)).Select(id => new FloatingIpStatus(routerId, id, Down)).ToList();
        if (metadata is not null) await metadata.Proxies.RemoveAsync(routerId, ct);
        var ns = new HostNetwork(NamespaceOf(routerId));
        var devices = File.Exists(FileOf(routerId, "devices")) ? (await File.ReadAllLinesAsync(FileOf(routerId, "devices"), ct)).Where(d => d.Length > 0).ToList() : [];
        if (NamespaceExists(ns.Namespace!)) devices = [.. devices.Union(await RouterDevicesAsync(ns, ct))];
        foreach (var device in devices) await driver.UnplugAsync(ns, device, ct);
        await ns.DeleteNamespaceAsync(ct);
        Directory.Delete(StateOf(routerId), recursive: true);
        return statuses;
    }

    async Task<IReadOnlyList<string>> ServedAsync(string routerId, CancellationToken ct) =>
        File.Exists(FileOf(routerId, "floatingips")) ? [.. (await File.ReadAllLinesAsync(FileOf(routerId, "floatingips"), ct)).Where(l => l.Length > 0)] : [];

    static IEnumerable<string> Cidrs(Port port) =>
        port.FixedIps.Select(ip => $"{Ip.Normalize(ip.IpAddress) ?? ip.IpAddress}/{ip.PrefixLength.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>The gateway port's default routes: the gateway of the first subnet of each IP version its addresses are on.</summary>
    static IEnumerable<string> Gateways(Port gw) =>
        gw.FixedIps.Select(ip => gw.Subnets.FirstOrDefault(s => s.Id == ip.SubnetId)?.GatewayIp).OfType<string>()
            .GroupBy(g => g.Contains(':')).Select(g => g.First());

    static string Prefix(string destination) =>
        destination == "default" || destination.Contains('/') ? destination : destination + (destination.Contains(':') ? "/128" : "/32");

    /// <summary>The extra routes: the namespace's routes through a next hop (all but the default ones) made to be the router's.</summary>
    static async Task RoutesAsync(HostNetwork ns, IReadOnlyList<Route> routes, CancellationToken ct)
    {
        var wanted = routes.Select(x => (Destination: Prefix(x.Destination), Nexthop: Ip.Normalize(x.Nexthop) ?? x.Nexthop)).ToHashSet();
        foreach (var family in (string[])["-4", "-6"])
        {
            using var doc = JsonDocument.Parse(await ns.IpAsync(ct, "-j", family, "route", "show"));
            var have = doc.RootElement.EnumerateArray()
                .Where(x => x.TryGetProperty("gateway", out _) && x.GetProperty("dst").GetString() != "default")
                .Select(x => (Destination: Prefix(x.GetProperty("dst").GetString()!), Nexthop: x.GetProperty("gateway").GetString()!)).ToList();
            foreach (var (destination, nexthop) in have.Where(h => !wanted.Contains(h)))
                await ns.IpAsync(ct, family, "route", "delete", destination, "via", nexthop);
        }
        foreach (var (destination, nexthop) in wanted) await ns.IpAsync(ct, "route", "replace", destination, "via", nexthop);
    }

    /// <summary>
    /// Neutron's iptables rules of a legacy router in nftables, as one file that replaces the table: packets
    /// entering the gateway are marked; the metadata address's port 80 from an interface goes to the router's
    /// proxy (and its port is closed otherwise); each floating IP is DNAT to its fixed IP and its fixed IP SNAT
    /// to it; traffic leaving by the gateway is SNAT to the gateway's address (enable_snat), and so is DNATed
    /// traffic that did not enter by the gateway (a guest reaching another's floating IP), so replies come back.
    /// </summary>
    internal string NatRules(Router r)
    {
        var gw = r.GatewayPort;
        var qg = gw is null ? null : InterfaceDriver.DeviceOf(ExternalPrefix, gw.Id);
        var gwIp = gw?.FixedIps.Select(ip => ip.IpAddress).FirstOrDefault(ip => !ip.Contains(':'));
        var fips = r.FloatingIps.Where(f => !f.FloatingIpAddress.Contains(':')).ToList();
        var port = metadata?.Port.ToString(CultureInfo.InvariantCulture);
        const string Metadata = "ip daddr " + MetadataProxies.Address + " iifname \"" + InternalPrefix + "*\" tcp dport 80";
        var text = new StringBuilder();
        void Chain(string name, string hook, IEnumerable<string?> rules)
        {
            text.Append(CultureInfo.InvariantCulture, $"\tchain {name} {{\n\t\t{hook}; policy accept;\n");
            foreach (var rule in rules.OfType<string>()) text.Append(CultureInfo.InvariantCulture, $"\t\t{rule}\n");
            text.Append("\t}\n");
        }
        static string SetMark(string mark) => $"meta mark set meta mark & 0xffff0000 | {mark}";
        text.Append(CultureInfo.InvariantCulture, $"table ip {Table}\ndelete table ip {Table}\ntable ip {Table} {{\n");
        Chain("mangle-prerouting", "type filter hook prerouting priority mangle", [
            port is null ? null : $"{Metadata} {SetMark(MetadataMark)}",
            qg is null ? null : $"iifname \"{qg}\" {SetMark(ExternalIngressMark)}"]);
        Chain("filter-input", "type filter hook input priority filter", [
            port is null ? null : $"meta mark & 0x0000ffff == {MetadataMark} accept",
            port is null ? null : $"tcp dport {port} drop"]);
        Chain("nat-prerouting", "type nat hook prerouting priority dstnat", [
            port is null ? null : $"{Metadata} redirect to :{port}",
            .. fips.Select(f => $"ip daddr {f.FloatingIpAddress} dnat to {f.FixedIpAddress}")]);
        Chain("nat-output", "type nat hook output priority -100", fips.Select(f => $"ip daddr {f.FloatingIpAddress} dnat to {f.FixedIpAddress}"));
        Chain("nat-postrouting", "type nat hook postrouting priority srcnat", [
            qg is null || gwIp is null ? null : $"oifname != \"{qg}\" ct status & dnat == 0 accept",
            .. fips.Select(f => $"ip saddr {f.FixedIpAddress} snat to {f.FloatingIpAddress}"),
            qg is null || gwIp is null || !r.EnableSnat ? null : $"oifname \"{qg}\" snat to {gwIp}",
            qg is null || gwIp is null ? null : $"meta mark & 0x0000ffff != {ExternalIngressMark} ct status dnat snat to {gwIp}"]);
        text.Append("}\n");
        return text.ToString();
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RouterNamespaces.Router))]
sealed partial class RouterJson : JsonSerializerContext;
