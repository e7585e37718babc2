using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Stratus.Core.Processes;
using Stratus.Network.Ipam;

namespace Stratus.Network.DataPlane;

/// <summary>
/// Security groups on the Linux bridge agent's host, with the semantics of Neutron's iptables firewall
/// driver (and the agent's ebtables ARP/MAC protection), in nftables. Per filtered port, named by its tap's
/// 11 characters as Neutron names its chains: an egress chain <c>o…</c> (frames only from the port's MACs,
/// ARP only for its IPv4 addresses, the DHCP client allowed, the spoof chain <c>s…</c> for source addresses,
/// DHCP server and router advertisements from the port dropped, then the rules), and an ingress chain
/// <c>i…</c> (ND and MLD in, then the rules); both stateful — established and related allowed, invalid
/// dropped — and ending in a drop. A rule's remote group is a set of its members' addresses per ethertype,
/// so a membership change rewrites only the set. Ports of <c>network:*</c> owners and ports without port
/// security are not in the answer's filtered ports and pass untouched.
/// <para>
/// Why two tables. This kernel has no nf_conntrack_bridge (<c>ct state</c> in a bridge-family chain fails
/// with "Protocol error"); what it has, as a Debian host set up for Neutron's iptables driver has, is
/// br_netfilter: with <c>net.bridge.bridge-nf-call-ip(6)tables</c> on, bridged IPv4 and IPv6 traverse the IP
/// hooks and get conntrack there. But an inet chain sees the bridge, not the port (nftables has no physdev
/// match), so the rules are bridge-family chains, where iifname and oifname are the taps, and an inet table
/// on the same bridges hands conntrack's verdict over in two bits of the packet mark; it also gives each
/// network its own conntrack zone, as Neutron's <c>CT --zone</c> does, so that overlapping addresses of
/// two networks are not one connection. This works on both kinds of host; with nf_conntrack_bridge alone
/// (no br_netfilter) it would not, and the firewall says so rather than filter without state.
/// </para>
/// <para>
/// A rule removed (from a group, or a group from a port) cuts what it let in: as Neutron's ip_conntrack, the
/// firewall deletes with <c>conntrack -D</c> the entries of that rule's direction, family and protocol to or
/// from the port's addresses in its network's zone, so that an established flow does not outlive its rule.
/// </para>
/// <para>
/// The tables are named after the agent's host (nodes of <c>stratus up</c> and tests share one kernel), and
/// each change is one <c>nft -f -</c> script, one transaction: both tables replaced whole, or only the changed
/// sets' elements rewritten. Without filtered ports there are no tables.
/// </para>
/// </summary>
public sealed partial class PortFirewall(HostNetwork host, string agentHost)
{
    /// <summary>The mark bits the inet table sets from conntrack and the bridge chains read.</summary>
    public const uint EstablishedMark = 0x10000000, InvalidMark = 0x20000000, StateMask = EstablishedMark | InvalidMark;
    const string Forward = "sg-forward", Input = "sg-input", CtZone = "ct-zone", CtState = "ct-state";
    // Neutron's conntrack zones for networks start above the VLAN ids.
    const int FirstZone = 4097, Zones = 65535 - FirstZone;

    /// <summary>One rule as the agent gets it (Neutron's rule dict): remote_ip_prefix as source_ip_prefix on ingress and dest_ip_prefix on egress; provider rules (DHCP, RA) have source ports.</summary>
    public sealed record Rule(string Direction, string Ethertype)
    {
        public string? Protocol { get; init; }
        public int? PortRangeMin { get; init; }
        public int? PortRangeMax { get; init; }
        public int? SourcePortRangeMin { get; init; }
        public int? SourcePortRangeMax { get; init; }
        public string? SourceIpPrefix { get; init; }
        public string? DestIpPrefix { get; init; }
        public string? RemoteGroupId { get; init; }
        public bool Stateful { get; init; } = true;
    }

    public sealed record AddressPair(string IpAddress, string MacAddress);

    /// <summary>A device's port as the answer has it: its addresses, its groups, and its own (provider) rules.</summary>
    public sealed record Port(string Device, string Id, string NetworkId, string MacAddress)
    {
        public IReadOnlyList<string> FixedIps { get; init; } = [];
        public IReadOnlyList<AddressPair> AllowedAddressPairs { get; init; } = [];
        public IReadOnlyList<string> SecurityGroups { get; init; } = [];
        public IReadOnlyList<Rule> SecurityGroupRules { get; init; } = [];
        public bool PortSecurityEnabled { get; init; } = true;
        public string DeviceOwner { get; init; } = "";

        /// <summary>Neutron filters neither ports without port security nor the network's own (DHCP, router...).</summary>
        public bool Filtered => PortSecurityEnabled && !DeviceOwner.StartsWith("network:", StringComparison.Ordinal);
    }

    /// <summary>
    /// security_group_info_for_devices' answer: the devices' ports by port id, each of their groups' rules, and
    /// for each remote group the addresses of its members (fixed IPs and allowed address pairs) by ethertype.
    /// </summary>
    public sealed record SecurityGroupInfo(
        IReadOnlyDictionary<string, Port> Devices,
        IReadOnlyDictionary<string, IReadOnlyList<Rule>> SecurityGroups,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>> SgMemberIps)
    {
        public static readonly SecurityGroupInfo None = new(
            new Dictionary<string, Port>(), new Dictionary<string, IReadOnlyList<Rule>>(), new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>>());
    }

    /// <summary>What the host has of this firewall: which of its two tables, and the bridge table's chains and sets.</summary>
    public sealed record Installed(IReadOnlyList<string> Tables, IReadOnlyList<string> Chains, IReadOnlyList<string> Sets)
    {
        /// <summary>The devices that have chains.</summary>
        public IReadOnlyList<string> Devices => [.. Chains.Where(c => c.Length == 12 && c[0] == 'i').Select(c => "tap" + c[1..])];
    }

    /// <summary>The tables as wanted: their commands but the sets' elements, the bridge table's chains, and each set's elements.</summary>
    internal sealed record Plan(IReadOnlyList<string> Commands, IReadOnlyList<string> Chains, IReadOnlyDictionary<string, IReadOnlyList<string>> Sets)
    {
        /// <summary>Each filtered device's flows as its rules allow them, for what a removed rule must cut.</summary>
        public IReadOnlyDictionary<string, PortFlows> Flows { get; init; } = new Dictionary<string, PortFlows>();

        public bool IsEmpty => Commands.Count == 0;
        public bool SameRules(Plan other) => Commands.SequenceEqual(other.Commands);
    }

    /// <summary>A filtered port's conntrack zone, fixed addresses, and the rules of its groups.</summary>
    internal sealed record PortFlows(int Zone, IReadOnlyList<string> FixedIps, IReadOnlyList<Rule> Rules);

    public string Table { get; } = TableOf(agentHost);
    Plan? _applied;

    public static string TableOf(string agentHost) => "neutron-sg-" + NotInName().Replace(agentHost, "_");
    static string ChainOf(char kind, string device) => kind + device[3..];
    static string SetOf(string groupId, string ethertype) => (ethertype == "IPv6" ? "rg6-" : "rg4-") + groupId;

    /// <summary>The tables, chains and sets of this firewall on the host.</summary>
    public async Task<Installed> ListAsync(CancellationToken ct)
    {
        var tables = new List<string>();
        var chains = new List<string>();
        var sets = new List<string>();
        foreach (var family in new[] { "bridge", "inet" })
        {
            string json;
            try
            {
                json = await NftAsync(ct, null, "-j", "list", "table", family, Table);
            }
            catch (HostCommandException e) when (e.ExitCode is null || e.StandardError.Contains("No such file or directory", StringComparison.Ordinal))
            {
                // No such table; or no nft at all, which can have made none (a host without security groups needs none).
                continue;
            }
            tables.Add(family + " " + Table);
            if (family != "bridge") continue;
            using var doc = JsonDocument.Parse(json);
            foreach (var item in doc.RootElement.GetProperty("nftables").EnumerateArray())
            {
                if (item.TryGetProperty("chain", out var chain)) chains.Add(chain.GetProperty("name").GetString()!);
                if (item.TryGetProperty("set", out var set)) sets.Add(set.GetProperty("name").GetString()!);
            }
        }
        return new Installed(tables, [.. chains.Order(StringComparer.Ordinal)], [.. sets.Order(StringComparer.Ordinal)]);
    }

    /// <summary>
    /// The host made to match <paramref name="wanted"/> in one transaction: the tables replaced when the rules
    /// changed or the host's tables are not what this firewall last made (a restart, a flushed ruleset), else
    /// only the sets whose members changed; no filtered port, no tables.
    /// </summary>
    public async Task ReconcileAsync(SecurityGroupInfo wanted, CancellationToken ct)
    {
        var plan = PlanFor(Table, wanted);
        if (plan.IsEmpty && _applied is { IsEmpty: true }) return;
        var installed = await ListAsync(ct);
        string script;
        if (plan.IsEmpty)
            script = installed.Tables.Count == 0 ? "" : RemoveScript(Table);
        else if (_applied is not null && _applied.SameRules(plan) && installed.Tables.Count == 2
            && installed.Chains.SequenceEqual(plan.Chains) && installed.Sets.SequenceEqual(plan.Sets.Keys))
            script = SetsScript(Table, _applied, plan);
        else
        {
            await RequireBridgeConntrackAsync(ct);
            script = FullScript(Table, plan);
        }
        var before = _applied;
        _applied = null;
        if (script.Length > 0) await NftAsync(ct, script, "-f", "-");
        _applied = plan;
        if (before is not null)
            foreach (var args in ConntrackDeletions(before, plan)) await DeleteConntrackAsync(args, ct);
    }

    async Task DeleteConntrackAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        try
        {
            await (host.Namespace is null
                ? HostCommand.RunAsync("conntrack", args, ct)
                : HostCommand.RunAsync("ip", ["netns", "exec", host.Namespace, "conntrack", .. args], ct));
        }
        catch (HostCommandException e) when (e.StandardError.Contains(" 0 flow entries", StringComparison.Ordinal))
        {
            // Nothing of the rule was flowing.
        }
        catch (HostCommandException e) when (e.ExitCode is null)
        {
            throw new DataPlaneException("removing a security group rule cuts the flows it let in with conntrack, and there is none: install the conntrack package (as Neutron's firewall needs)");
        }
    }

    /// <summary>
    /// Neutron's delete_conntrack_state_by_rule for each rule a device still filtered had and has no more:
    /// <c>-D -p PROTOCOL -f FAMILY -d|-s ADDRESS -w ZONE</c> for each of its fixed addresses of the rule's family,
    /// destination for an ingress rule, source for an egress one.
    /// </summary>
    internal static IReadOnlyList<string[]> ConntrackDeletions(Plan before, Plan after)
    {
        var deletions = new List<string[]>();
        foreach (var (device, old) in before.Flows.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            if (!after.Flows.TryGetValue(device, out var now)) continue;
            var kept = now.Rules.Select(Key).ToHashSet();
            foreach (var rule in old.Rules.Where(r => !kept.Contains(Key(r))).DistinctBy(Key))
            {
                var v6 = rule.Ethertype == "IPv6";
                int? protocol = rule.Protocol is { Length: > 0 } p ? IpProtocols.NumberOf(p) : null;
                if (v6 && protocol == IpProtocols.Icmp) protocol = IpProtocols.Icmpv6;
                foreach (var ip in old.FixedIps.Where(ip => Prefix(ip, rule.Ethertype) is not null))
                    deletions.Add(
                    [
                        "-D", .. protocol is > 0 ? new[] { "-p", protocol.Value.ToString(CultureInfo.InvariantCulture) } : [],
                        "-f", v6 ? "ipv6" : "ipv4", rule.Direction == "ingress" ? "-d" : "-s", ip, "-w", old.Zone.ToString(CultureInfo.InvariantCulture),
                    ]);
            }
        }
        return deletions;

        static string Key(Rule r) => r.Direction + " " + Match(r);
    }

    /// <summary>Bridged traffic gets conntrack only through br_netfilter's call of the IP hooks.</summary>
    async Task RequireBridgeConntrackAsync(CancellationToken ct)
    {
        foreach (var key in new[] { "bridge-nf-call-iptables", "bridge-nf-call-ip6tables" })
        {
            var path = "/proc/sys/net/bridge/" + key;
            var value = host.Namespace is null
                ? File.Exists(path) ? (await File.ReadAllTextAsync(path, ct)).Trim() : null
                : await ReadInNamespaceAsync(path, ct);
            if (value is null)
                throw new DataPlaneException("security groups need br_netfilter for stateful filtering of bridged traffic, and it is not loaded: run modprobe br_netfilter (as Neutron's iptables firewall needs)");
            if (value != "1")
                throw new DataPlaneException($"security groups need net.bridge.{key} = 1 for stateful filtering of bridged traffic (it is {value}), as Neutron's iptables firewall does");
        }
    }

    async Task<string?> ReadInNamespaceAsync(string path, CancellationToken ct)
    {
        try
        {
            return (await HostCommand.RunAsync("ip", ["netns", "exec", host.Namespace!, "cat", path], ct)).Trim();
        }
        catch (HostCommandException)
        {
            return null;
        }
    }

    Task<string> NftAsync(CancellationToken ct, string? input, params string[] args) =>
        host.Namespace is null
            ? HostCommand.RunAsync("nft", args, ct, input: input)
            : HostCommand.RunAsync("ip", ["netns", "exec", host.Namespace, "nft", .. args], ct, input: input);

    // ---- scripts

    /// <summary>Both tables removed (made first, so that the script holds whether or not they exist).</summary>
    internal static string RemoveScript(string table) =>
        $"add table bridge {table}\ndelete table bridge {table}\nadd table inet {table}\ndelete table inet {table}\n";

    /// <summary>Both tables replaced whole: whatever they held (a gone port's chains, a previous run's) is gone with them.</summary>
    internal static string FullScript(string table, Plan plan)
    {
        var s = new StringBuilder(RemoveScript(table));
        s.Append(CultureInfo.InvariantCulture, $"add table bridge {table}\nadd table inet {table}\n");
        foreach (var c in plan.Commands) s.Append(c).Append('\n');
        foreach (var (name, elements) in plan.Sets) AppendElements(s, table, name, elements);
        return s.ToString();
    }

    /// <summary>Only the sets whose elements changed, each flushed and filled.</summary>
    internal static string SetsScript(string table, Plan before, Plan after)
    {
        var s = new StringBuilder();
        foreach (var (name, elements) in after.Sets)
            if (!before.Sets.TryGetValue(name, out var old) || !old.SequenceEqual(elements))
            {
                s.Append(CultureInfo.InvariantCulture, $"flush set bridge {table} {name}\n");
                AppendElements(s, table, name, elements);
            }
        return s.ToString();
    }

    static void AppendElements(StringBuilder s, string table, string set, IReadOnlyList<string> elements)
    {
        if (elements.Count > 0) s.Append(CultureInfo.InvariantCulture, $"add element bridge {table} {set} {{ {string.Join(", ", elements)} }}\n");
    }

    // ---- what is wanted

    /// <summary>The tables for the filtered ports of <paramref name="info"/>; the same answer always gives the same plan.</summary>
    internal static Plan PlanFor(string table, SecurityGroupInfo info)
    {
        var ports = info.Devices.Values.Where(p => p.Filtered && IsTap(p.Device)).OrderBy(p => p.Device, StringComparer.Ordinal).ToList();
        if (ports.Count == 0) return new Plan([], [], new Dictionary<string, IReadOnlyList<string>>());
        var bridge = $"bridge {table}";
        var commands = new List<string>
        {
            $"add chain {bridge} {Forward} {{ type filter hook forward priority 0; policy accept; }}",
            $"add chain {bridge} {Input} {{ type filter hook input priority 0; policy accept; }}",
        };
        var chains = new List<string> { Forward, Input };
        var sets = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var flows = new Dictionary<string, PortFlows>(StringComparer.Ordinal);
        var rules = new List<string>();
        foreach (var port in ports)
        {
            var groupRules = port.SecurityGroups.SelectMany(g => info.SecurityGroups.GetValueOrDefault(g) ?? []).ToList();
            // As Neutron: the port's own (provider) rules first, then its groups'.
            var all = port.SecurityGroupRules.Concat(groupRules).ToList();
            var stateful = groupRules.Count == 0 || groupRules.Any(r => r.Stateful);
            flows[port.Device] = new PortFlows(ZoneOf(port.NetworkId), port.FixedIps, groupRules);
            foreach (var (kind, body) in new[] { ('s', SpoofRules(port)), ('o', EgressRules(port, all, stateful)), ('i', IngressRules(all, stateful)) })
            {
                var chain = ChainOf(kind, port.Device);
                chains.Add(chain);
                commands.Add($"add chain {bridge} {chain}");
                rules.AddRange(body.Select(r => $"add rule {bridge} {chain} {r}"));
            }
            foreach (var r in all.Where(r => r.RemoteGroupId is not null))
            {
                var members = info.SgMemberIps.GetValueOrDefault(r.RemoteGroupId!)?.GetValueOrDefault(r.Ethertype) ?? [];
                sets[SetOf(r.RemoteGroupId!, r.Ethertype)] = [.. members.Select(m => Prefix(m, r.Ethertype)).OfType<string>().Distinct().Order(StringComparer.Ordinal)];
            }
        }
        foreach (var name in sets.Keys)
            commands.Add($"add set {bridge} {name} {{ type {(name.StartsWith("rg6-", StringComparison.Ordinal) ? "ipv6_addr" : "ipv4_addr")}; flags interval; auto-merge; }}");
        commands.AddRange(rules);
        string Vmap(char kind) => string.Join(", ", ports.Select(p => $"\"{p.Device}\" : jump {ChainOf(kind, p.Device)}"));
        commands.Add($"add rule {bridge} {Forward} iifname vmap {{ {Vmap('o')} }}");
        commands.Add($"add rule {bridge} {Forward} oifname vmap {{ {Vmap('i')} }}");
        commands.Add($"add rule {bridge} {Input} iifname vmap {{ {Vmap('o')} }}");

        // The inet table: each network's conntrack zone before conntrack (raw), then its verdict into the mark.
        var inet = $"inet {table}";
        var networks = ports.Select(p => p.NetworkId).Distinct().Order(StringComparer.Ordinal).ToList();
        var bridges = string.Join(", ", networks.Select(n => $"\"{NetworkBridges.BridgeOf(n)}\""));
        commands.Add($"add chain {inet} {CtZone} {{ type filter hook prerouting priority -300; policy accept; }}");
        commands.Add($"add rule {inet} {CtZone} ct zone set iifname map {{ {string.Join(", ", networks.Select(n => $"\"{NetworkBridges.BridgeOf(n)}\" : {ZoneOf(n)}"))} }}");
        commands.Add($"add chain {inet} {CtState} {{ type filter hook prerouting priority -150; policy accept; }}");
        commands.Add($"add rule {inet} {CtState} iifname {{ {bridges} }} meta mark set meta mark & {Hex(~StateMask)}");
        commands.Add($"add rule {inet} {CtState} iifname {{ {bridges} }} ct state established,related meta mark set meta mark | {Hex(EstablishedMark)}");
        commands.Add($"add rule {inet} {CtState} iifname {{ {bridges} }} ct state invalid meta mark set meta mark | {Hex(InvalidMark)}");
        return new Plan(commands, [.. chains.Order(StringComparer.Ordinal)], sets) { Flows = flows };
    }

    static bool IsTap(string device) => device.Length == 14 && device.StartsWith("tap", StringComparison.Ordinal) && ChainName().IsMatch(device[3..]);

    static string Hex(uint value) => "0x" + value.ToString("x8", CultureInfo.InvariantCulture);

    /// <summary>A network's conntrack zone: from its id, so that it is the same after a restart.</summary>
    internal static int ZoneOf(string networkId)
    {
        var hash = 2166136261u;
        foreach (var c in networkId) hash = (hash ^ c) * 16777619u;
        return FirstZone + (int)(hash % Zones);
    }

    const string Established = "meta mark & 0x30000000 == 0x10000000 return";
    const string Invalid = "meta mark & 0x30000000 == 0x20000000 drop";
    const string NotIp = "ether type != { ip, ip6 } return";

    /// <summary>
    /// The egress chain: MAC and ARP protection (the agent's ebtables chains), the DHCP client and the
    /// unspecified-address ND/MLD of duplicate address detection, the source addresses, then what Neutron's
    /// _add_fixed_egress_rules adds, then the rules.
    /// </summary>
    static List<string> EgressRules(Port port, IReadOnlyList<Rule> rules, bool stateful)
    {
        var macs = port.AllowedAddressPairs.Select(p => p.MacAddress).Prepend(port.MacAddress).Select(Mac).OfType<string>().Distinct().ToList();
        var v4 = port.FixedIps.Concat(port.AllowedAddressPairs.Select(p => p.IpAddress)).Select(a => Prefix(a, "IPv4")).OfType<string>().Distinct().ToList();
        var chain = new List<string> { macs.Count == 0 ? "drop" : $"ether saddr != {{ {string.Join(", ", macs)} }} drop" };
        // A /0 allows any address, so no ARP protection, as Neutron's (ARP_SPA cannot match /0).
        if (v4.Count == 0) chain.Add("ether type arp drop");
        else if (!v4.Contains("0.0.0.0/0")) chain.Add($"ether type arp arp saddr ip != {{ {string.Join(", ", v4)} }} drop");
        chain.AddRange(
        [
            NotIp,
            "ether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 meta l4proto 17 th sport 68 th dport 67 return",
            "ether type ip6 ip6 saddr :: ip6 daddr ff02::/16 meta l4proto 58 icmpv6 type { 131, 135, 143 } return",
            $"jump {ChainOf('s', port.Device)}",
            "ether type ip meta l4proto 17 th sport 68 th dport 67 return",
            "ether type ip6 meta l4proto 58 icmpv6 type 134 drop",
            "ether type ip6 meta l4proto 58 return",
            "ether type ip6 meta l4proto 17 th sport 546 th dport 547 return",
            "ether type ip meta l4proto 17 th sport 67 th dport 68 drop",
            "ether type ip6 meta l4proto 17 th sport 547 th dport 546 drop",
        ]);
        chain.AddRange(Stateful(rules.Where(r => r.Direction == "egress"), stateful));
        return chain;
    }

    /// <summary>The ingress chain: multicast listener queries and neighbor solicitations and advertisements in, then the rules.</summary>
    static List<string> IngressRules(IReadOnlyList<Rule> rules, bool stateful) =>
        [NotIp, "ether type ip6 meta l4proto 58 icmpv6 type { 130, 135, 136 } return", .. Stateful(rules.Where(r => r.Direction == "ingress"), stateful)];

    /// <summary>Established and related first and invalid last (stateful groups only), each distinct rule once, and the rest dropped.</summary>
    static IEnumerable<string> Stateful(IEnumerable<Rule> rules, bool stateful)
    {
        if (stateful) yield return Established;
        foreach (var match in rules.Select(Match).OfType<string>().Distinct()) yield return match + " return";
        if (stateful) yield return Invalid;
        yield return "drop";
    }

    /// <summary>
    /// The spoof chain: each (MAC, address) of the port and its allowed pairs may send, with the EUI-64 link-local
    /// address of its MAC beside an IPv6 address; other sources of a family the port has addresses of are dropped.
    /// A port without addresses may send any address from its MAC (Neutron's (mac, None) pair).
    /// </summary>
    static List<string> SpoofRules(Port port)
    {
        var pairs = port.AllowedAddressPairs.Concat(port.FixedIps.Select(ip => new AddressPair(ip, port.MacAddress))).ToList();
        var chain = new List<string>();
        foreach (var (family, ethertype) in new[] { ("ip", "IPv4"), ("ip6", "IPv6") })
        {
            var allowed = new List<string>();
            foreach (var pair in pairs)
            {
                if (Mac(pair.MacAddress) is not { } mac || Prefix(pair.IpAddress, ethertype) is not { } prefix) continue;
                allowed.Add($"ether saddr {mac} ether type {family} {family} saddr {prefix} return");
                if (family == "ip6") allowed.Add($"ether saddr {mac} ether type ip6 ip6 saddr {LinkLocal(mac)} return");
            }
            if (port.FixedIps.Count == 0 && Mac(port.MacAddress) is { } own) allowed.Add($"ether saddr {own} ether type {family} return");
            if (allowed.Count == 0) continue;
            chain.AddRange(allowed.Distinct());
            chain.Add($"ether type {family} drop");
        }
        return chain;
    }

    /// <summary>One rule's match (its verdict is return), or null when it cannot match anything this firewall sees.</summary>
    internal static string? Match(Rule r)
    {
        var (family, v6) = r.Ethertype switch { "IPv4" => ("ip", false), "IPv6" => ("ip6", true), _ => (null, false) };
        if (family is null) return null;
        var parts = new List<string> { $"ether type {family}" };
        foreach (var (text, field) in new[] { (r.SourceIpPrefix, "saddr"), (r.DestIpPrefix, "daddr") })
        {
            if (text is null) continue;
            var prefix = Prefix(text, r.Ethertype);
            if (prefix is null) return null;
            // Anywhere is no constraint, as Neutron's _ip_prefix_arg drops it.
            if (!prefix.EndsWith("/0", StringComparison.Ordinal)) parts.Add($"{family} {field} {prefix}");
        }
        if (r.RemoteGroupId is { } group)
        {
            if (!ChainName().IsMatch(group)) return null;
            parts.Add($"{family} {(r.Direction == "ingress" ? "saddr" : "daddr")} @{SetOf(group, r.Ethertype)}");
        }
        if (r.Protocol is { Length: > 0 } p)
        {
            if (IpProtocols.NumberOf(p) is not { } number) return null;
            // Neutron's IPv6 rules take ICMP by any of its names (IPV6_ICMP_LEGACY_PROTO_LIST).
            if (v6 && number == IpProtocols.Icmp) number = IpProtocols.Icmpv6;
            if (number != 0) parts.Add(string.Create(CultureInfo.InvariantCulture, $"meta l4proto {number}"));
            if (IpProtocols.WithPorts.Contains(number))
            {
                parts.AddRange(Ports("sport", r.SourcePortRangeMin, r.SourcePortRangeMax));
                parts.AddRange(Ports("dport", r.PortRangeMin, r.PortRangeMax));
            }
            else if (number == (v6 ? IpProtocols.Icmpv6 : IpProtocols.Icmp))
            {
                // port_range_min/max are the ICMP type and code; the provider's RA rule gives the type as source port.
                var icmp = v6 ? "icmpv6" : "icmp";
                var (type, code) = r.PortRangeMin is not null ? (r.PortRangeMin, r.PortRangeMax) : (r.SourcePortRangeMin, r.SourcePortRangeMax);
                if (type is { } t) parts.Add(string.Create(CultureInfo.InvariantCulture, $"{icmp} type {t}"));
                if (type is not null && code is { } c) parts.Add(string.Create(CultureInfo.InvariantCulture, $"{icmp} code {c}"));
            }
        }
        return string.Join(' ', parts);
    }

    static IEnumerable<string> Ports(string field, int? min, int? max)
    {
        if (min is not { } from) yield break;
        var to = max ?? from;
        yield return from == to
            ? string.Create(CultureInfo.InvariantCulture, $"th {field} {from}")
            : string.Create(CultureInfo.InvariantCulture, $"th {field} {from}-{to}");
    }

    /// <summary>An address or CIDR of the ethertype in nft's form (host bits cleared, as Neutron's normalized_cidr), or null.</summary>
    static string? Prefix(string text, string ethertype)
    {
        if (!IpNetwork.TryParse(text, out var network, out _, strict: false) || network.Version != (ethertype == "IPv6" ? 6 : 4)) return null;
        var address = Ip.Format(network.Network, network.Version);
        return network.PrefixLength == network.Bits ? address : string.Create(CultureInfo.InvariantCulture, $"{address}/{network.PrefixLength}");
    }

    static string? Mac(string mac) => MacAddress().IsMatch(mac) ? mac.ToLowerInvariant() : null;

    static readonly IpNetwork LinkLocalPrefix = new((UInt128)0xfe80 << 112, 64, 6);

    static string LinkLocal(string mac) => Ip.Format(Ip.Eui64(LinkLocalPrefix, mac), 6);

    [GeneratedRegex("[^A-Za-z0-9_.-]")]
    private static partial Regex NotInName();

    /// <summary>What may stand in a chain or set name: a port id's first characters, a group id.</summary>
    [GeneratedRegex("^[A-Za-z0-9-]+$")]
    private static partial Regex ChainName();

    [GeneratedRegex("^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")]
    private static partial Regex MacAddress();
}
