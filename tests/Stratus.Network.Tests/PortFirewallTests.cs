using System.Text.Json;
using Stratus.Core.Config;
using Stratus.Core.Processes;
using Stratus.Network.DataPlane;
using Rule = Stratus.Network.DataPlane.PortFirewall.Rule;

namespace Stratus.Network.Tests;

/// <summary>
/// Security group rules as nftables statements, and the firewall's tables made, listed, updated and removed by
/// real nft (as root, as the agent runs) inside a namespace each test makes for its "host".
/// </summary>
public sealed class PortFirewallTests : IAsyncLifetime
{
    readonly HostNetwork _host = new("stratus-test-" + Guid.NewGuid().ToString("N")[..8]);

    public Task InitializeAsync() => _host.EnsureNamespaceAsync(default);

    public Task DisposeAsync() => _host.DeleteNamespaceAsync(default);

    public static TheoryData<Rule, string?> Rules => new()
    {
        { new Rule("ingress", "IPv4") { Protocol = "tcp", PortRangeMin = 22, PortRangeMax = 22, SourceIpPrefix = "10.0.0.5/24" }, "ether type ip ip saddr 10.0.0.0/24 meta l4proto 6 th dport 22" },
        { new Rule("egress", "IPv4") { Protocol = "17", PortRangeMin = 1000, PortRangeMax = 2000, DestIpPrefix = "192.0.2.0/24" }, "ether type ip ip daddr 192.0.2.0/24 meta l4proto 17 th dport 1000-2000" },
        { new Rule("ingress", "IPv4") { Protocol = "icmp", PortRangeMin = 8, PortRangeMax = 0 }, "ether type ip meta l4proto 1 icmp type 8 icmp code 0" },
        { new Rule("ingress", "IPv4") { Protocol = "icmp", PortRangeMin = 3 }, "ether type ip meta l4proto 1 icmp type 3" },
        // IPv6 takes ICMP by any of its names; port ranges of protocols without ports are ignored, as by Neutron.
        { new Rule("ingress", "IPv6") { Protocol = "icmp", PortRangeMin = 128 }, "ether type ip6 meta l4proto 58 icmpv6 type 128" },
        { new Rule("ingress", "IPv6") { Protocol = "ipv6-icmp", SourcePortRangeMin = 134 }, "ether type ip6 meta l4proto 58 icmpv6 type 134" },
        { new Rule("egress", "IPv4") { Protocol = "gre", PortRangeMin = 1, PortRangeMax = 2 }, "ether type ip meta l4proto 47" },
        { new Rule("ingress", "IPv4") { Protocol = "0", SourceIpPrefix = "0.0.0.0/0" }, "ether type ip" },
        { new Rule("egress", "IPv6"), "ether type ip6" },
        { new Rule("ingress", "IPv6") { Protocol = "tcp", PortRangeMin = 80, PortRangeMax = 80, SourceIpPrefix = "2001:DB8::1/64" }, "ether type ip6 ip6 saddr 2001:db8::/64 meta l4proto 6 th dport 80" },
        { new Rule("ingress", "IPv4") { Protocol = "udp", PortRangeMin = 68, PortRangeMax = 68, SourcePortRangeMin = 67, SourcePortRangeMax = 67, DestIpPrefix = "10.0.0.5/32" },
            "ether type ip ip daddr 10.0.0.5 meta l4proto 17 th sport 67 th dport 68" },
        { new Rule("ingress", "IPv4") { Protocol = "tcp", RemoteGroupId = "5c5e9c5a-0000-4000-8000-000000000001" }, "ether type ip ip saddr @rg4-5c5e9c5a-0000-4000-8000-000000000001 meta l4proto 6" },
        { new Rule("egress", "IPv6") { RemoteGroupId = "5c5e9c5a-0000-4000-8000-000000000001" }, "ether type ip6 ip6 daddr @rg6-5c5e9c5a-0000-4000-8000-000000000001" },
        // Nothing it could match: an IPv6 prefix on an IPv4 rule, an unknown protocol.
        { new Rule("ingress", "IPv4") { SourceIpPrefix = "2001:db8::/64" }, null },
        { new Rule("ingress", "IPv4") { Protocol = "bogus" }, null },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void A_rule_becomes_the_nft_match_of_Neutron_s_iptables_rule(Rule rule, string? expected) =>
        Assert.Equal(expected, PortFirewall.Match(rule));

    const string Group = "5c5e9c5a-0000-4000-8000-000000000001";
    const string Other = "5c5e9c5a-0000-4000-8000-000000000002";

    static PortFirewall.Port Port(string id, string mac, params string[] ips) =>
        new("tap" + id[..11], id, "0e0e0e0e-0000-4000-8000-000000000001", mac) { FixedIps = ips, SecurityGroups = [Group] };

    static PortFirewall.SecurityGroupInfo Info(IEnumerable<PortFirewall.Port> ports, IReadOnlyList<string>? members = null, bool stateful = true) => new(
        ports.ToDictionary(p => p.Id),
        new Dictionary<string, IReadOnlyList<Rule>>
        {
            [Group] =
            [
                new Rule("egress", "IPv4") { Stateful = stateful },
                new Rule("ingress", "IPv4") { RemoteGroupId = Other, Protocol = "icmp", Stateful = stateful },
                new Rule("ingress", "IPv4") { Protocol = "tcp", PortRangeMin = 22, PortRangeMax = 22, Stateful = stateful },
            ],
        },
        new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>>
        {
            [Other] = new Dictionary<string, IReadOnlyList<string>> { ["IPv4"] = members ?? ["10.0.0.9", "10.0.1.0/24"] },
        });

    static readonly PortFirewall.Port A = Port("aaaaaaaa-1111-4000-8000-000000000001", "fa:16:3e:00:00:0a", "10.0.0.10", "2001:db8::a") with
    {
        AllowedAddressPairs = [new PortFirewall.AddressPair("10.0.0.100", "fa:16:3e:00:00:aa")],
    };

    static readonly PortFirewall.Port B = Port("bbbbbbbb-2222-4000-8000-000000000002", "fa:16:3e:00:00:0b", "10.0.0.11");

    static List<string> ChainOf(PortFirewall.Plan plan, string chain) =>
        [.. plan.Commands.Where(c => c.StartsWith($"add rule bridge t {chain} ", StringComparison.Ordinal)).Select(c => c[$"add rule bridge t {chain} ".Length..])];

    [Fact]
    public void A_port_gets_Neutron_s_spoofing_dhcp_and_stateful_rules_in_order()
    {
        var plan = PortFirewall.PlanFor("t", Info([A]));
        Assert.Equal(["iaaaaaaaa-11", "oaaaaaaaa-11", "saaaaaaaa-11", "sg-forward", "sg-input"], plan.Chains);
        Assert.Equal(
        [
            "ether saddr != { fa:16:3e:00:00:0a, fa:16:3e:00:00:aa } drop",
            "ether type arp arp saddr ip != { 10.0.0.10, 10.0.0.100 } drop",
            "ether type != { ip, ip6 } return",
            "ether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 meta l4proto 17 th sport 68 th dport 67 return",
            "ether type ip6 ip6 saddr :: ip6 daddr ff02::/16 meta l4proto 58 icmpv6 type { 131, 135, 143 } return",
            "jump saaaaaaaa-11",
            "ether type ip meta l4proto 17 th sport 68 th dport 67 return",
            "ether type ip6 meta l4proto 58 icmpv6 type 134 drop",
            "ether type ip6 meta l4proto 58 return",
            "ether type ip6 meta l4proto 17 th sport 546 th dport 547 return",
            "ether type ip meta l4proto 17 th sport 67 th dport 68 drop",
            "ether type ip6 meta l4proto 17 th sport 547 th dport 546 drop",
            "meta mark & 0x30000000 == 0x10000000 return",
            "ether type ip return",
            "meta mark & 0x30000000 == 0x20000000 drop",
            "drop",
        ], ChainOf(plan, "oaaaaaaaa-11"));
        Assert.Equal(
        [
            "ether saddr fa:16:3e:00:00:aa ether type ip ip saddr 10.0.0.100 return",
            "ether saddr fa:16:3e:00:00:0a ether type ip ip saddr 10.0.0.10 return",
            "ether type ip drop",
            "ether saddr fa:16:3e:00:00:0a ether type ip6 ip6 saddr 2001:db8::a return",
            "ether saddr fa:16:3e:00:00:0a ether type ip6 ip6 saddr fe80::f816:3eff:fe00:a return",
            "ether type ip6 drop",
        ], ChainOf(plan, "saaaaaaaa-11"));
        Assert.Equal(
        [
            "ether type != { ip, ip6 } return",
            "ether type ip6 meta l4proto 58 icmpv6 type { 130, 135, 136 } return",
            "meta mark & 0x30000000 == 0x10000000 return",
            $"ether type ip ip saddr @rg4-{Other} meta l4proto 1 return",
            "ether type ip meta l4proto 6 th dport 22 return",
            "meta mark & 0x30000000 == 0x20000000 drop",
            "drop",
        ], ChainOf(plan, "iaaaaaaaa-11"));
        Assert.Equal(["10.0.0.9", "10.0.1.0/24"], plan.Sets[$"rg4-{Other}"]);
        Assert.Contains($"add rule bridge t sg-forward iifname vmap {{ \"{A.Device}\" : jump oaaaaaaaa-11 }}", plan.Commands);
        Assert.Contains($"add rule bridge t sg-forward oifname vmap {{ \"{A.Device}\" : jump iaaaaaaaa-11 }}", plan.Commands);
        var zone = PortFirewall.ZoneOf(A.NetworkId);
        Assert.InRange(zone, 4097, 65535);
        Assert.Contains($"add rule inet t ct-zone ct zone set iifname map {{ \"brq0e0e0e0e-00\" : {zone} }}", plan.Commands);
    }

    [Fact]
    public void Ports_without_port_security_and_the_network_s_own_ports_are_not_filtered_and_stateless_groups_have_no_state_rules()
    {
        var open = A with { PortSecurityEnabled = false };
        var dhcp = B with { DeviceOwner = "network:dhcp" };
        Assert.True(PortFirewall.PlanFor("t", Info([open, dhcp])).IsEmpty);
        // A port without addresses may send any address, but only from its MAC; it sends no ARP.
        var bare = B with { FixedIps = [] };
        var plan = PortFirewall.PlanFor("t", Info([bare], stateful: false));
        Assert.Equal(["ether saddr fa:16:3e:00:00:0b ether type ip return", "ether type ip drop", "ether saddr fa:16:3e:00:00:0b ether type ip6 return", "ether type ip6 drop"],
            ChainOf(plan, "sbbbbbbbb-22"));
        Assert.Contains("ether type arp drop", ChainOf(plan, "obbbbbbbb-22"));
        Assert.DoesNotContain(ChainOf(plan, "ibbbbbbbb-22"), r => r.StartsWith("meta mark", StringComparison.Ordinal));
        Assert.Equal("drop", ChainOf(plan, "ibbbbbbbb-22")[^1]);
    }

    [Fact]
    public void A_removed_rule_deletes_the_conntrack_entries_of_its_direction_family_and_protocol_for_each_address_of_the_port_in_its_zone()
    {
        var before = PortFirewall.PlanFor("t", Info([A, B]));
        var info = Info([A, B]);
        // The ICMP rule goes; the SSH rule stays, and an HTTP rule comes, which cuts nothing.
        var after = PortFirewall.PlanFor("t", info with
        {
            SecurityGroups = new Dictionary<string, IReadOnlyList<Rule>>
            {
                [Group] = [info.SecurityGroups[Group][0], info.SecurityGroups[Group][2], new Rule("ingress", "IPv4") { Protocol = "tcp", PortRangeMin = 80, PortRangeMax = 80 }],
            },
        });
        var zone = PortFirewall.ZoneOf(A.NetworkId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(
            [
                ["-D", "-p", "1", "-f", "ipv4", "-d", "10.0.0.10", "-w", zone],
                ["-D", "-p", "1", "-f", "ipv4", "-d", "10.0.0.11", "-w", zone],
            ],
            PortFirewall.ConntrackDeletions(before, after));

        // B leaves the group: each of its rules goes (egress by source address, any protocol); A keeps them. A gone port has no flows to cut.
        var left = PortFirewall.PlanFor("t", Info([A, B with { SecurityGroups = [] }]));
        Assert.Equal(
            [
                ["-D", "-f", "ipv4", "-s", "10.0.0.11", "-w", zone],
                ["-D", "-p", "1", "-f", "ipv4", "-d", "10.0.0.11", "-w", zone],
                ["-D", "-p", "6", "-f", "ipv4", "-d", "10.0.0.11", "-w", zone],
            ],
            PortFirewall.ConntrackDeletions(before, left));
        Assert.Empty(PortFirewall.ConntrackDeletions(before, PortFirewall.PlanFor("t", Info([A]))));
        Assert.Empty(PortFirewall.ConntrackDeletions(before, before));
    }

    /// <summary>The rule handles of the bridge table: the same after an update means it was not replaced.</summary>
    async Task<List<long>> HandlesAsync(string table)
    {
        var json = await HostCommand.RunAsync("ip", ["netns", "exec", _host.Namespace!, "nft", "-j", "list", "table", "bridge", table]);
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("nftables").EnumerateArray().Where(e => e.TryGetProperty("rule", out _)).Select(e => e.GetProperty("rule").GetProperty("handle").GetInt64())];
    }

    async Task<string> SetAsync(string table, string set) =>
        await HostCommand.RunAsync("ip", ["netns", "exec", _host.Namespace!, "nft", "list", "set", "bridge", table, set]);

    [Fact]
    public async Task Reconcile_makes_lists_updates_members_in_place_and_removes_the_tables_with_nothing_left()
    {
        var firewall = new PortFirewall(_host, "host/1 of test");
        Assert.Equal("neutron-sg-host_1_of_test", firewall.Table);
        Assert.Empty((await firewall.ListAsync(default)).Tables);

        await firewall.ReconcileAsync(Info([A, B]), default);
        var installed = await firewall.ListAsync(default);
        Assert.Equal([$"bridge {firewall.Table}", $"inet {firewall.Table}"], installed.Tables);
        Assert.Equal([A.Device, B.Device], installed.Devices);
        Assert.Equal([$"rg4-{Other}"], installed.Sets);
        var handles = await HandlesAsync(firewall.Table);
        Assert.Contains("10.0.1.0/24", await SetAsync(firewall.Table, $"rg4-{Other}"));

        // A member change rewrites the set only: the rules keep their handles.
        await firewall.ReconcileAsync(Info([A, B], ["10.0.0.12"]), default);
        Assert.Equal(handles, await HandlesAsync(firewall.Table));
        var set = await SetAsync(firewall.Table, $"rg4-{Other}");
        Assert.Contains("10.0.0.12", set);
        Assert.DoesNotContain("10.0.1.0/24", set);

        // A gone port's chains go; a new firewall (an agent restarted) makes the same tables once, without duplicates.
        await firewall.ReconcileAsync(Info([A], ["10.0.0.12"]), default);
        Assert.Equal([A.Device], (await firewall.ListAsync(default)).Devices);
        var rules = (await HandlesAsync(firewall.Table)).Count;
        var restarted = new PortFirewall(_host, "host/1 of test");
        await restarted.ReconcileAsync(Info([A], ["10.0.0.12"]), default);
        Assert.Equal([A.Device], (await restarted.ListAsync(default)).Devices);
        Assert.Equal(rules, (await HandlesAsync(firewall.Table)).Count);

        // A table flushed behind its back is made again on the next pass.
        await HostCommand.RunAsync("ip", ["netns", "exec", _host.Namespace!, "nft", "flush", "table", "bridge", firewall.Table]);
        await HostCommand.RunAsync("ip", ["netns", "exec", _host.Namespace!, "nft", "delete", "chain", "bridge", firewall.Table, "iaaaaaaaa-11"]);
        await restarted.ReconcileAsync(Info([A], ["10.0.0.12"]), default);
        Assert.Equal(rules, (await HandlesAsync(firewall.Table)).Count);

        await restarted.ReconcileAsync(PortFirewall.SecurityGroupInfo.None, default);
        Assert.Empty((await restarted.ListAsync(default)).Tables);
        var ruleset = await HostCommand.RunAsync("ip", ["netns", "exec", _host.Namespace!, "nft", "-j", "list", "ruleset"]);
        Assert.DoesNotContain("neutron-sg", ruleset);
    }

    [Fact]
    public async Task Without_br_netfilter_calling_the_ip6_hooks_the_firewall_refuses_rather_than_filter_without_state()
    {
        // The bridge sysctls are the namespace's own: this changes only the test's host.
        await HostCommand.RunAsync("ip", ["netns", "exec", _host.Namespace!, "sysctl", "-w", "net.bridge.bridge-nf-call-ip6tables=0"]);
        var firewall = new PortFirewall(_host, "no-conntrack");
        var e = await Assert.ThrowsAsync<DataPlaneException>(() => firewall.ReconcileAsync(Info([A]), default));
        Assert.Equal("security groups need net.bridge.bridge-nf-call-ip6tables = 1 for stateful filtering of bridged traffic (it is 0), as Neutron's iptables firewall does", e.Message);
        Assert.Empty((await firewall.ListAsync(default)).Tables);
    }

    static LinuxBridgeOptions Load(string securityGroup)
    {
        var path = Path.Combine(Path.GetTempPath(), "lb-" + Guid.NewGuid().ToString("N") + ".ini");
        File.WriteAllText(path, "[securitygroup]\n" + securityGroup);
        try
        {
            return LinuxBridgeOptions.Load(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_firewall_driver_is_read_as_Neutron_reads_it()
    {
        Assert.False(Load("").FiltersPorts);
        Assert.Equal("noop", Load("").FirewallDriver);
        Assert.True(Load("firewall_driver = neutron.agent.linux.iptables_firewall.IptablesFirewallDriver\n").FiltersPorts);
        Assert.True(Load("firewall_driver = iptables_hybrid\n").FiltersPorts);
        Assert.True(Load("firewall_driver = nftables\n").FiltersPorts);
        Assert.False(Load("firewall_driver = noop\n").FiltersPorts);
        Assert.False(Load("firewall_driver = iptables\nenable_security_group = false\n").FiltersPorts);
        var e = Assert.Throws<ConfigException>(() => Load("firewall_driver = openvswitch\n"));
        Assert.Contains("firewall_driver", e.Message);
        Assert.Contains("'openvswitch' is not a firewall driver", e.Message);
    }
}
