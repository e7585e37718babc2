using System.Globalization;
using System.Text;
using Stratus.Core.Processes;
using Stratus.Network.Ipam;

namespace Stratus.Network.DataPlane;

/// <summary>
/// The DHCP agent's servers on its host, as Neutron's DHCP agent runs them with the Dnsmasq driver and the
/// linuxbridge interface driver: per network with DHCP-enabled subnets a namespace <c>qdhcp-NETWORK</c>, the
/// DHCP port's veth pair (<c>tap…</c> in the host network, plugged into the network's bridge, <c>ns-…</c> in
/// the namespace with the port's MAC and addresses) and a dnsmasq in the namespace that serves the
/// network's ports from the files under <c>stateDirectory/NETWORK/</c>. It lists what it made (the state
/// directory names it) and makes it match what is wanted; namespaces it did not make are never touched.
/// With <c>enable_isolated_metadata</c> (or <c>force_metadata</c>) a network without a router also gets a
/// metadata proxy in its namespace, on 169.254.169.254, and its guests a route there through the DHCP port.
/// </summary>
public sealed class DhcpServers(NetworkBridges bridges, string stateDirectory, int leaseSeconds = 86400, string dnsDomain = "openstacklocal",
    DhcpServers.MetadataSettings? metadata = null, string? logDirectory = null)
{
    public const string NamespacePrefix = "qdhcp-";
    readonly InterfaceDriver driver = new(bridges);
    const string Dnsmasq = "dnsmasq";
    const string Ipv4Any = "0.0.0.0/0";
    // dnsmasq_lease_max's default.
    const int LeaseMax = 1 << 24;

    public sealed record HostRoute(string Destination, string Nexthop);

    /// <summary>A subnet of the network as the DHCP agent gets it (ipv6 modes null for IPv4).</summary>
    public sealed record Subnet(string Id, string Cidr, string? GatewayIp, IReadOnlyList<string> DnsNameservers, IReadOnlyList<HostRoute> HostRoutes,
        bool EnableDhcp = true, string? Ipv6AddressMode = null, string? Ipv6RaMode = null);

    public sealed record FixedIp(string SubnetId, string IpAddress);

    /// <summary>One of a port's extra_dhcp_opts.</summary>
    public sealed record ExtraOption(string Name, string Value, int IpVersion = 4);

    public sealed record Port(string Id, string MacAddress, IReadOnlyList<FixedIp> FixedIps, IReadOnlyList<ExtraOption>? ExtraOptions = null,
        string? DeviceOwner = null);

    /// <summary>dhcp_agent.ini's metadata keys, and the proxies that serve the metadata.</summary>
    public sealed record MetadataSettings(MetadataProxies Proxies, bool EnableIsolatedMetadata, bool ForceMetadata);

    static readonly string[] RouterInterfaceOwners = ["network:router_interface", "network:ha_router_replicated_interface", "network:router_interface_distributed"];

    /// <summary>
    /// What one network's DHCP server is to serve: its subnets, the agent's DHCP port on it, and the other
    /// ports that get DHCP entries (the agent leaves out the kinds Neutron leaves out: DHCP, floating IP, HA and DVR ports).
    /// </summary>
    public sealed record Network(string Id, int Mtu, IReadOnlyList<Subnet> Subnets, Port DhcpPort, IReadOnlyList<Port> Ports);

    /// <summary>A network's server as the host has it now.</summary>
    public sealed record Server(string NetworkId, string Namespace, string Interface, int? Pid);

    public static string NamespaceOf(string networkId) => NamespacePrefix + networkId;
    public static string InsideDeviceOf(string portId) => InterfaceDriver.DeviceOf("ns-", portId);

    string StateOf(string networkId) => Path.Combine(stateDirectory, networkId);
    string FileOf(string networkId, string kind) => Path.Combine(StateOf(networkId), kind);

    /// <summary>The servers this agent made (one state directory each), with dnsmasq's pid where it runs.</summary>
    public async Task<IReadOnlyList<Server>> ListAsync(CancellationToken ct)
    {
        var servers = new List<Server>();
        foreach (var id in OwnNetworks())
        {
            var iface = File.Exists(FileOf(id, "interface")) ? (await File.ReadAllTextAsync(FileOf(id, "interface"), ct)).Trim() : "";
            servers.Add(new Server(id, NamespaceOf(id), iface, RunningPid(id)));
        }
        return servers;
    }

    /// <summary>
    /// The host made to match <paramref name="wanted"/>: each network with a DHCP-enabled subnet served, every
    /// other server this agent made stopped with its namespace, veth and state directory. As Neutron, dnsmasq
    /// restarts only when its command line changes (the DHCP-enabled ranges, the MTU); ports and a subnet's
    /// gateway, DNS servers and routes are files it rereads on SIGHUP.
    /// </summary>
    public async Task ReconcileAsync(IReadOnlyCollection<Network> wanted, CancellationToken ct)
    {
        var serve = wanted.Where(n => n.Subnets.Any(s => s.EnableDhcp)).ToList();
        var keep = serve.Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var id in OwnNetworks().Where(id => !keep.Contains(id))) await RemoveAsync(id, ct);
        foreach (var n in serve) await EnsureAsync(n, ct);
    }

    /// <summary>One network's server, made or brought up to date.</summary>
    public async Task EnsureAsync(Network n, CancellationToken ct)
    {
        if (!Guid.TryParse(n.Id, out _)) throw new DataPlaneException($"network id {n.Id} is not a UUID");
        // The state directory first: it is what marks the namespace as ours, even if we stop half-way.
        Directory.CreateDirectory(StateOf(n.Id));
        var ns = new HostNetwork(NamespaceOf(n.Id));
        await ns.EnsureNamespaceAsync(ct);
        var device = await EnsureDeviceAsync(n, ns, ct);
        await File.WriteAllTextAsync(FileOf(n.Id, "interface"), device, ct);

        if (metadata is not null && ShouldEnableMetadata(n)) await metadata.Proxies.EnsureAsync(new MetadataProxies.Proxy(n.Id, ns.Namespace!, ForRouter: false), ct);
        else if (metadata is not null) await metadata.Proxies.RemoveAsync(n.Id, ct);

        var args = CommandLine(n, device);
        var pid = RunningPid(n.Id);
        if (pid is not null && Daemons.Arguments(pid.Value, Dnsmasq).SequenceEqual(args))
        {
            var oldHosts = ReadHostLeases(FileOf(n.Id, "host"));
            if (!await WriteConfigAsync(n, ct)) return;
            // Addresses of gone ports are released, so that a new port may get them at once (Neutron's _release_unused_leases).
            var newHosts = HostLeases(n).ToHashSet();
            foreach (var (ip, mac) in oldHosts.Where(h => !newHosts.Contains(h)))
                await HostCommand.RunAsync("ip", ["netns", "exec", ns.Namespace!, "dhcp_release", device, ip, mac], ct);
            Daemons.Signal(pid.Value, Daemons.SigHup, Dnsmasq);
            return;
        }
        if (pid is not null) await StopAsync(n.Id, ct);
        await WriteConfigAsync(n, ct);
        await WriteInitialLeasesAsync(n, ct);
        // dnsmasq daemonizes once its sockets are bound; a bad option or a taken port is its exit code.
        await HostCommand.RunAsync("ip", ["netns", "exec", ns.Namespace!, Dnsmasq, .. args], ct);
    }

    /// <summary>A network's server gone: dnsmasq stopped, its namespace (with the veth) and its state deleted.</summary>
    public async Task RemoveAsync(string networkId, CancellationToken ct)
    {
        await StopAsync(networkId, ct);
        if (metadata is not null) await metadata.Proxies.RemoveAsync(networkId, ct);
        var iface = File.Exists(FileOf(networkId, "interface")) ? (await File.ReadAllTextAsync(FileOf(networkId, "interface"), ct)).Trim() : "";
        var ns = new HostNetwork(NamespaceOf(networkId));
        if (iface.StartsWith("ns-", StringComparison.Ordinal)) await driver.UnplugAsync(ns, iface, ct);
        await ns.DeleteNamespaceAsync(ct);
        Directory.Delete(StateOf(networkId), recursive: true);
    }

    IEnumerable<string> OwnNetworks() =>
        Directory.Exists(stateDirectory)
            ? Directory.EnumerateDirectories(stateDirectory).Select(Path.GetFileName).Where(d => Guid.TryParse(d, out _)).Select(d => d!).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>The DHCP port's veth pair, as the linuxbridge interface driver plugs it, with the port's addresses.</summary>
    async Task<string> EnsureDeviceAsync(Network n, HostNetwork ns, CancellationToken ct)
    {
        var port = n.DhcpPort;
        var inside = InsideDeviceOf(port.Id);
        await driver.PlugAsync(ns, inside, n.Id, port.MacAddress, n.Mtu, ct);

        var subnets = n.Subnets.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var wanted = port.FixedIps.Where(ip => subnets.ContainsKey(ip.SubnetId))
            .Select(ip => $"{Ip.Normalize(ip.IpAddress) ?? ip.IpAddress}/{Parse(subnets[ip.SubnetId]).PrefixLength}").ToHashSet(StringComparer.Ordinal);
        // The DeviceManager's metadata address, whether or not this network needs the proxy now.
        if (metadata is { ForceMetadata: true } or { EnableIsolatedMetadata: true }) wanted.Add(MetadataProxies.AddressCidr);
        await InterfaceDriver.InitL3Async(ns, inside, wanted, ct);
        // As the DHCP agent: a default route by the first IPv4 gateway on the port's subnets, for DNS beyond the network.
        var gateway = port.FixedIps.Select(ip => subnets.GetValueOrDefault(ip.SubnetId))
            .FirstOrDefault(s => s is not null && s.GatewayIp is not null && Parse(s).Version == 4)?.GatewayIp;
        if (gateway is not null) await ns.IpAsync(ct, "route", "replace", "default", "via", gateway, "dev", inside);
        else await ns.IpAsync(ct, "-4", "route", "flush", "exact", Ipv4Any);
        return inside;
    }

    static IpNetwork Parse(Subnet s) =>
        IpNetwork.TryParse(s.Cidr, out var net, out _, strict: false) ? net : throw new DataPlaneException($"subnet {s.Id} has an invalid cidr {s.Cidr}");

    static string Netmask(int prefixLength) =>
        Ip.Format(prefixLength == 0 ? 0 : (UInt128)(uint.MaxValue << (32 - prefixLength)), 4);

    static bool IsV6(Subnet s) => Parse(s).Version == 6;

    /// <summary>Neutron's get_isolated_subnets: a subnet is isolated unless a router's interface port holds its gateway address.</summary>
    static HashSet<string> IsolatedSubnets(Network n)
    {
        var routed = n.Ports.Where(p => p.DeviceOwner is { } owner && RouterInterfaceOwners.Contains(owner))
            .SelectMany(p => p.FixedIps).Where(ip => n.Subnets.Any(s => s.Id == ip.SubnetId && s.GatewayIp is { } g && Ip.Normalize(g) == Ip.Normalize(ip.IpAddress)))
            .Select(ip => ip.SubnetId).ToHashSet(StringComparer.Ordinal);
        return n.Subnets.Select(s => s.Id).Where(id => !routed.Contains(id)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Neutron's should_enable_metadata: every DHCP network with force_metadata, else one with an isolated DHCP subnet.</summary>
    internal bool ShouldEnableMetadata(Network n)
    {
        var dhcpSubnets = n.Subnets.Where(s => s.EnableDhcp).ToList();
        if (dhcpSubnets.Count == 0 || metadata is null) return false;
        if (metadata.ForceMetadata) return true;
        if (!metadata.EnableIsolatedMetadata) return false;
        var isolated = IsolatedSubnets(n);
        return dhcpSubnets.Any(s => isolated.Contains(s.Id));
    }

    /// <summary>dnsmasq's arguments as the Dnsmasq driver builds them (DNS served too, from the addn_hosts file only).</summary>
    internal List<string> CommandLine(Network n, string device)
    {
        var args = new List<string>
        {
            "--no-hosts", "--no-resolv",
            "--pid-file=" + FileOf(n.Id, "pid"),
            "--dhcp-hostsfile=" + FileOf(n.Id, "host"),
            "--addn-hosts=" + FileOf(n.Id, "addn_hosts"),
            "--dhcp-optsfile=" + FileOf(n.Id, "opts"),
            "--dhcp-leasefile=" + FileOf(n.Id, "leases"),
            "--dhcp-match=set:ipxe,175", "--dhcp-userclass=set:ipxe6,iPXE",
            "--local-service", "--bind-dynamic",
            // Neutron relies on the namespace holding only this device; naming it keeps dnsmasq off lo too.
            "--interface=" + device,
        };
        // dnsmasq drops to nobody before it reads these files: where nobody cannot reach them (a state
        // directory under a private one, as /root or a test's temporary directory), it keeps root instead.
        if (!ReachableByOthers(stateDirectory)) args.Add("--user=root");
        var lease = leaseSeconds < 0 ? "infinite" : leaseSeconds.ToString(CultureInfo.InvariantCulture) + "s";
        UInt128 possible = 0;
        foreach (var s in n.Subnets.Where(s => s.EnableDhcp))
        {
            var net = Parse(s);
            var first = Ip.Format(net.Network, net.Version);
            if (net.Version == 4)
                args.Add($"--dhcp-range=set:subnet-{s.Id},{first},static,{Netmask(net.PrefixLength)},{lease}");
            else
            {
                // SLAAC without DHCPv6 gets no range; a prefix shorter than /64 is ignored, as Neutron does.
                var stateful = s.Ipv6AddressMode is "dhcpv6-stateful" or "dhcpv6-stateless" || s.Ipv6AddressMode is null && s.Ipv6RaMode is null;
                if (!stateful || net.PrefixLength < 64) continue;
                args.Add($"--dhcp-range=set:subnet-{s.Id},{first},static,{net.PrefixLength.ToString(CultureInfo.InvariantCulture)},{lease}");
            }
            possible += net.Size;
        }
        if (n.Mtu > 0) args.Add("--dhcp-option-force=option:mtu," + n.Mtu.ToString(CultureInfo.InvariantCulture));
        args.Add("--dhcp-lease-max=" + (possible < LeaseMax ? (int)possible : LeaseMax).ToString(CultureInfo.InvariantCulture));
        args.Add("--conf-file=/dev/null");
        args.Add("--domain=" + dnsDomain);
        if (logDirectory is not null)
        {
            var log = Directory.CreateDirectory(Path.Combine(logDirectory, n.Id)).FullName;
            args.AddRange(["--log-queries", "--log-dhcp", "--log-facility=" + Path.Combine(log, "dhcp_dns_log")]);
        }
        return args;
    }

    /// <summary>Whether every directory from the root down to <paramref name="directory"/> lets other users through.</summary>
    static bool ReachableByOthers(string directory)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
            if (dir.Exists && !dir.UnixFileMode.HasFlag(UnixFileMode.OtherExecute)) return false;
        return true;
    }

    /// <summary>One DHCP entry per fixed IP of a port on a DHCP-enabled subnet, with the names Neutron makes up.</summary>
    IEnumerable<(Port Port, FixedIp Ip, Subnet Subnet, string Host, string Fqdn)> Hosts(Network n)
    {
        var subnets = n.Subnets.ToDictionary(s => s.Id, StringComparer.Ordinal);
        foreach (var port in n.Ports)
        {
            // Stateless IPv6 entries first: dnsmasq reads the file from its end and would stop at an entry without an address.
            var ips = port.FixedIps.Where(ip => subnets.ContainsKey(ip.SubnetId))
                .OrderBy(ip => subnets[ip.SubnetId] is { } s && IsV6(s) && s.Ipv6AddressMode == "dhcpv6-stateless" ? 0 : 1);
            foreach (var ip in ips)
            {
                var address = Ip.Normalize(ip.IpAddress) ?? ip.IpAddress;
                var name = "host-" + address.Replace('.', '-').Replace(':', '-');
                yield return (port, ip with { IpAddress = address }, subnets[ip.SubnetId], name, dnsDomain.Length > 0 ? $"{name}.{dnsDomain}" : name);
            }
        }
    }

    internal string HostsFile(Network n)
    {
        var text = new StringBuilder();
        foreach (var (port, ip, subnet, _, fqdn) in Hosts(n))
        {
            var v6 = IsV6(subnet);
            var tag = v6 ? "tag:dhcpv6," : "";
            var opts = port.ExtraOptions is { Count: > 0 } ? port.ExtraOptions : null;
            if (v6 && subnet.Ipv6AddressMode is "slaac" or "dhcpv6-stateless")
            {
                // No address by DHCP; a stateless port with options still needs its tag.
                if (subnet.Ipv6AddressMode != "slaac" && opts is not null) text.Append(CultureInfo.InvariantCulture, $"{port.MacAddress},{tag}set:port-{port.Id}\n");
                continue;
            }
            if (!subnet.EnableDhcp) continue;
            var address = v6 ? $"[{ip.IpAddress}]" : ip.IpAddress;
            var clientId = opts?.FirstOrDefault(IsClientId)?.Value;
            if (opts is null) text.Append(CultureInfo.InvariantCulture, $"{port.MacAddress},{tag}{fqdn},{address}\n");
            else if (clientId is not null && opts.Count == 1) text.Append(CultureInfo.InvariantCulture, $"{port.MacAddress},{tag}id:{clientId},{fqdn},{address}\n");
            else if (clientId is not null) text.Append(CultureInfo.InvariantCulture, $"{port.MacAddress},{tag}id:{clientId},{fqdn},{address},set:port-{port.Id}\n");
            else text.Append(CultureInfo.InvariantCulture, $"{port.MacAddress},{tag}{fqdn},{address},set:port-{port.Id}\n");
        }
        return text.ToString();
    }

    internal string AddnHostsFile(Network n) =>
        string.Concat(Hosts(n).Select(h => $"{h.Ip.IpAddress}\t{h.Fqdn} {h.Host}\n"));

    static bool IsClientId(ExtraOption o) => o.Name is "client-id" or "61";

    internal string OptsFile(Network n)
    {
        var options = new List<string>();
        var v4Subnets = n.Subnets.Where(s => !IsV6(s)).ToList();
        var isolated = IsolatedSubnets(n);
        foreach (var s in n.Subnets)
        {
            var v6 = IsV6(s);
            if (!s.EnableDhcp || v6 && s.Ipv6AddressMode == "slaac") continue;
            var version = v6 ? 6 : 4;
            var tag = "subnet-" + s.Id;
            if (s.DnsNameservers.Count == 1 && Ip.Normalize(s.DnsNameservers[0].Split('/')[0]) is "0.0.0.0" or "::")
                options.Add(Option(version, tag, "dns-server")); // announce no DNS server at all
            else if (s.DnsNameservers.Count > 0)
                options.Add(Option(version, tag, "dns-server", string.Join(',', s.DnsNameservers.Select(d => v6 ? $"[{d}]" : d))));
            if (v6 && dnsDomain.Length > 0) options.Add(Option(version, tag, "domain-search", dnsDomain));
            if (v6) continue;

            var gateway = s.GatewayIp;
            var routes = new List<string>();
            foreach (var r in s.HostRoutes)
                if (r.Destination == Ipv4Any) gateway ??= r.Nexthop;
                else routes.Add($"{r.Destination},{r.Nexthop}");
            // Guests reach the metadata proxy through the DHCP port on an isolated subnet, through the router otherwise.
            if (metadata is { ForceMetadata: true } || isolated.Contains(s.Id) && metadata is { EnableIsolatedMetadata: true })
            {
                if (n.DhcpPort.FixedIps.FirstOrDefault(ip => ip.SubnetId == s.Id) is { } dhcpIp) routes.Add($"{MetadataProxies.AddressCidr},{Ip.Normalize(dhcpIp.IpAddress) ?? dhcpIp.IpAddress}");
            }
            else if (!isolated.Contains(s.Id) && gateway is not null) routes.Add($"{MetadataProxies.AddressCidr},{gateway}");
            // The network's other IPv4 subnets are on-link (each put first, as Neutron does).
            foreach (var other in v4Subnets.Where(o => o.Cidr != s.Cidr)) routes.Insert(0, $"{other.Cidr},0.0.0.0");
            if (routes.Count > 0)
            {
                if (gateway is not null) routes.Add($"{Ipv4Any},{gateway}");
                options.Add(Option(4, tag, "classless-static-route", string.Join(',', routes)));
                options.Add(Option(4, tag, "249", string.Join(',', routes)));
            }
            options.Add(gateway is null ? Option(4, tag, "router") : Option(4, tag, "router", gateway));
        }
        foreach (var port in n.Ports.Where(p => p.ExtraOptions is { Count: > 0 }))
        {
            var versions = port.FixedIps.Select(ip => Ip.TryParse(ip.IpAddress, out _, out var v) ? v : 0).ToHashSet();
            foreach (var o in port.ExtraOptions!.Where(o => !IsClientId(o) && versions.Contains(o.IpVersion)))
                options.Add(Option(o.IpVersion, "port-" + port.Id, o.Name, o.Value));
        }
        return string.Join('\n', options);
    }

    /// <summary>One dnsmasq option line: <c>tag:TAG,option:NAME,VALUES</c> (numbers stay bare for IPv4; IPv6 is <c>option6:</c>).</summary>
    static string Option(int version, string tag, string name, params string[] values)
    {
        name = name.Split('\n', 2)[0];
        string? extraTag = null;
        if (name.StartsWith("tag:", StringComparison.Ordinal) && name.IndexOf(',', StringComparison.Ordinal) is var comma and > 0)
        {
            extraTag = name[..comma];
            name = name[(comma + 1)..];
        }
        name = version == 6 ? "option6:" + name : name.All(char.IsAsciiDigit) ? name : "option:" + name;
        IEnumerable<string> parts = extraTag is null ? ["tag:" + tag, name] : ["tag:" + tag, extraTag, name];
        return string.Join(',', parts.Concat(values.Select(v => v.Split('\n', 2)[0])));
    }

    /// <summary>The hosts, addn_hosts and opts files written (each replaced whole); false when none changed.</summary>
    async Task<bool> WriteConfigAsync(Network n, CancellationToken ct)
    {
        var changed = false;
        foreach (var (kind, text) in new[] { ("host", HostsFile(n)), ("addn_hosts", AddnHostsFile(n)), ("opts", OptsFile(n)) })
        {
            var path = FileOf(n.Id, kind);
            if (File.Exists(path) && await File.ReadAllTextAsync(path, ct) == text) continue;
            await ReplaceAsync(path, text, ct);
            changed = true;
        }
        return changed;
    }

    /// <summary>Leases for the hosts at start, so that dnsmasq does not NAK clients renewing after a restart.</summary>
    async Task WriteInitialLeasesAsync(Network n, CancellationToken ct)
    {
        var expiry = leaseSeconds < 0 ? 0 : DateTimeOffset.UtcNow.ToUnixTimeSeconds() + leaseSeconds;
        var text = new StringBuilder();
        foreach (var (port, ip, subnet, _, _) in Hosts(n).Where(h => h.Subnet.EnableDhcp && !IsV6(h.Subnet)))
        {
            var clientId = port.ExtraOptions?.FirstOrDefault(IsClientId)?.Value ?? "*";
            text.Append(CultureInfo.InvariantCulture, $"{expiry} {port.MacAddress} {ip.IpAddress} * {clientId}\n");
        }
        await ReplaceAsync(FileOf(n.Id, "leases"), text.ToString(), ct);
    }

    IEnumerable<(string Ip, string Mac)> HostLeases(Network n) =>
        Hosts(n).Where(h => h.Subnet.EnableDhcp && !IsV6(h.Subnet)).Select(h => (h.Ip.IpAddress, h.Port.MacAddress));

    /// <summary>The IPv4 (address, MAC) pairs a hosts file gives out.</summary>
    static List<(string Ip, string Mac)> ReadHostLeases(string path)
    {
        if (!File.Exists(path)) return [];
        var leases = new List<(string, string)>();
        foreach (var line in File.ReadAllLines(path))
        {
            var fields = line.Trim().Split(',');
            if (fields.Length < 3 || fields[1].StartsWith("set:", StringComparison.Ordinal) || fields[1].StartsWith("tag:", StringComparison.Ordinal)) continue;
            var rest = fields[1].StartsWith("id:", StringComparison.Ordinal) ? fields[3..] : fields[2..];
            leases.AddRange(rest.Where(f => Ip.TryParse(f, out _, out var v) && v == 4).Select(f => (f, fields[0])));
        }
        return leases;
    }

    static async Task ReplaceAsync(string path, string text, CancellationToken ct)
    {
        var temp = path + ".tmp";
        await File.WriteAllTextAsync(temp, text, ct);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>dnsmasq's pid from its pid file, if that process is still this network's dnsmasq.</summary>
    int? RunningPid(string networkId) => Daemons.RunningPid(FileOf(networkId, "pid"), Dnsmasq, "--pid-file=" + FileOf(networkId, "pid"));

    Task StopAsync(string networkId, CancellationToken ct) => Daemons.StopAsync(FileOf(networkId, "pid"), Dnsmasq, "--pid-file=" + FileOf(networkId, "pid"), ct);
}
