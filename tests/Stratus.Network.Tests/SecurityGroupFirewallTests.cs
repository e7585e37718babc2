using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Stratus.Core.Processes;
using Stratus.Network.DataPlane;
using static Stratus.Testing.NeutronCalls;

namespace Stratus.Network.Tests;

/// <summary>
/// Security groups enforced on the host by the node's Linux bridge agent (as root, as the agent runs). Each
/// "guest" is a namespace of the test's own holding one end of a veth pair, with its port's MAC and address;
/// the other end, named as the port's tap, is what the agent wires into the network's bridge and filters.
/// Traffic stays between the guests in that bridge.
/// </summary>
public sealed class SecurityGroupFirewallTests(NetworkServer net) : IClassFixture<NetworkServer>, IAsyncLifetime
{
    readonly TestNamespaces _test = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _test.DisposeAsync();

    /// <summary>A guest on a port: a namespace whose eth0's peer in the host's namespace is the port's tap.</summary>
    sealed record Guest(HostNetwork Namespace, string Tap, string Ip, string PortId)
    {
        public Task<string> ExecAsync(params string[] args) => HostCommand.RunAsync("ip", ["netns", "exec", Namespace.Namespace!, .. args]);

        /// <summary>Whether one ping, from <paramref name="from"/> if given, gets an answer within a second.</summary>
        public async Task<bool> PingAsync(Guest to, string? from = null)
        {
            try
            {
                await ExecAsync(["busybox", "ping", "-c", "1", "-W", "1", .. from is null ? Array.Empty<string>() : ["-I", from], to.Ip]);
                return true;
            }
            catch (HostCommandException)
            {
                return false;
            }
        }
    }

    string Host => net.Node.Options<NetworkOptions>().Host;

    /// <summary>Each test's groups, rules and ports are a project's of its own (the admin's would run out of its quota of ten groups).</summary>
    readonly string _project = Guid.NewGuid().ToString("N");

    static Task WaitUntilAsync(Func<Task<bool>> probe, string what, int seconds = 15) => Poll.UntilAsync(probe, ok => ok, what, seconds);

    /// <summary>A test network's subnet: a guest's address is its number in the subnet.</summary>
    sealed record TestNetwork(string NetworkId, string SubnetId, string Prefix, int Version)
    {
        public int Length => Version == 4 ? 24 : 64;
        public string Address(int host) => Version == 4 ? $"{Prefix}.{host}" : $"{Prefix}{host}";
    }

    /// <summary>A network with one subnet on an address range of its own; without DHCP the guests set their addresses.</summary>
    async Task<TestNetwork> NetworkAsync(int version = 4, bool dhcp = false)
    {
        var admin = net.Admin();
        var n = await ExpectAsync(admin.PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = Name("sg-net") } }), HttpStatusCode.Created);
        var networkId = (string)n["network"]!["id"]!;
        var prefix = version == 4 ? $"10.{Random.Shared.Next(100, 250)}.{Random.Shared.Next(0, 250)}" : $"fd00:{Random.Shared.Next(1, 0xffff):x}::";
        var s = await ExpectAsync(admin.PostAsJsonAsync("v2.0/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject
            {
                ["network_id"] = networkId, ["ip_version"] = version, ["cidr"] = version == 4 ? prefix + ".0/24" : prefix + "/64", ["enable_dhcp"] = dhcp,
            },
        }), HttpStatusCode.Created);
        return new TestNetwork(networkId, (string)s["subnet"]!["id"]!, prefix, version);
    }

    async Task<string> GroupAsync(params JsonObject[] rules)
    {
        var admin = net.Admin();
        var g = await ExpectAsync(admin.PostAsJsonAsync("v2.0/security-groups",
            new JsonObject { ["security_group"] = new JsonObject { ["name"] = Name("sg"), ["project_id"] = _project } }), HttpStatusCode.Created);
        var id = (string)g["security_group"]!["id"]!;
        foreach (var rule in rules) await RuleAsync(id, rule);
        return id;
    }

    async Task<string> RuleAsync(string groupId, JsonObject rule)
    {
        rule["security_group_id"] = groupId;
        rule["project_id"] = _project;
        var r = await ExpectAsync(net.Admin().PostAsJsonAsync("v2.0/security-group-rules", new JsonObject { ["security_group_rule"] = rule }), HttpStatusCode.Created);
        return (string)r["security_group_rule"]!["id"]!;
    }

    static JsonObject Ingress(string protocol, int? min = null, int? max = null, string? remoteGroup = null) => new()
    {
        ["direction"] = "ingress", ["ethertype"] = "IPv4", ["protocol"] = protocol, ["port_range_min"] = min, ["port_range_max"] = max, ["remote_group_id"] = remoteGroup,
    };

    /// <summary>A port bound to the node's host with its groups, and its guest, plugged and ACTIVE (the agent filters before it wires).</summary>
    async Task<Guest> GuestAsync(TestNetwork network, int host, params string[] groups)
    {
        var admin = net.Admin();
        var p = await ExpectAsync(admin.PostAsJsonAsync("v2.0/ports", new JsonObject
        {
            ["port"] = new JsonObject
            {
                ["network_id"] = network.NetworkId, ["project_id"] = _project, ["binding:host_id"] = Host, ["security_groups"] = new JsonArray([.. groups.Select(g => (JsonNode)g)]),
                ["fixed_ips"] = new JsonArray(new JsonObject { ["subnet_id"] = network.SubnetId, ["ip_address"] = network.Address(host) }),
            },
        }), HttpStatusCode.Created);
        var port = p["port"]!;
        var guest = new Guest(await _test.NamespaceAsync("sg" + host), NetworkBridges.TapOf((string)port["id"]!), network.Address(host), (string)port["id"]!);
        await _test.WireAsync(new HostNetwork(), guest.Tap, guest.Namespace, (string)port["mac_address"]!, $"{guest.Ip}/{network.Length}", null);
        // An IPv6 address is the guest's once duplicate address detection (through the firewall) is done.
        await WaitUntilAsync(async () => (await guest.ExecAsync("ip", "addr", "show", "dev", "eth0", "tentative")).Length == 0, $"{guest.Ip} leaving tentative");
        await WaitUntilAsync(async () => (string?)(await admin.GetFromJsonAsync<JsonObject>($"v2.0/ports/{guest.PortId}"))!["port"]!["status"] == "ACTIVE",
            $"port {guest.PortId} going ACTIVE");
        return guest;
    }

    Task UpdatePortAsync(Guest guest, JsonObject port) =>
        ExpectAsync(net.Admin().PutAsJsonAsync($"v2.0/ports/{guest.PortId}", new JsonObject { ["port"] = port }), HttpStatusCode.OK);

    [Fact]
    public async Task Ping_follows_an_icmp_rule_added_and_removed_through_the_API_and_replies_to_egress_flow_back()
    {
        var network = await NetworkAsync();
        var (open, closed) = (await GroupAsync(), await GroupAsync());
        var a = await GuestAsync(network, 10, open);
        var b = await GuestAsync(network, 11, closed);

        // Neither group lets ICMP in.
        Assert.False(await a.PingAsync(b));
        Assert.False(await b.PingAsync(a));

        var rule = await RuleAsync(open, Ingress("icmp"));
        await WaitUntilAsync(() => b.PingAsync(a), "B's ping of A after A's group let ICMP in");
        // B's group lets nothing in: the echo replies come back as B's connection's (stateful), yet A still cannot ping B.
        Assert.False(await a.PingAsync(b));

        Assert.Equal(HttpStatusCode.NoContent, (await net.Admin().DeleteAsync($"v2.0/security-group-rules/{rule}")).StatusCode);
        await WaitUntilAsync(async () => !await b.PingAsync(a), "B's ping of A failing after the rule went");
        Assert.False(await b.PingAsync(a));
    }

    [Fact]
    public async Task Removing_a_rule_cuts_the_flows_it_let_in_as_Neutron_deletes_their_conntrack_entries()
    {
        var network = await NetworkAsync();
        var group = await GroupAsync();
        var a = await GuestAsync(network, 15, group);
        var b = await GuestAsync(network, 16, await GroupAsync());
        var rule = await RuleAsync(group, Ingress("icmp"));
        await WaitUntilAsync(() => b.PingAsync(a), "B's ping of A once A's group lets ICMP in");

        // One ping process is one ICMP id, so one conntrack entry that its echoes keep established.
        using var ping = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", b.Namespace.Namespace!, "busybox", "ping", "-i", "0.2", a.Ip])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var replies = 0;
        var lastReply = DateTime.UtcNow;
        ping.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("bytes from", StringComparison.Ordinal) != true) return;
            Interlocked.Increment(ref replies);
            lastReply = DateTime.UtcNow;
        };
        ping.BeginOutputReadLine();
        try
        {
            await WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref replies) >= 5), "replies to B's running ping");
            Assert.Equal(HttpStatusCode.NoContent, (await net.Admin().DeleteAsync($"v2.0/security-group-rules/{rule}")).StatusCode);
            await WaitUntilAsync(async () => !await b.PingAsync(a), "a new ping of A failing after the rule went");
            // The running ping's flow went with the rule: no reply for two seconds, five times its interval.
            await WaitUntilAsync(() => Task.FromResult(DateTime.UtcNow - lastReply > TimeSpan.FromSeconds(2)), "the running ping's replies stopping");
        }
        finally
        {
            ping.Kill();
            await ping.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task IPv6_guests_find_each_other_by_neighbor_discovery_and_ping_only_as_a_rule_allows_from_their_own_addresses()
    {
        var network = await NetworkAsync(6);
        var group = await GroupAsync();
        var a = await GuestAsync(network, 10, group);
        var b = await GuestAsync(network, 11, group);
        Assert.False(await a.PingAsync(b));

        // ICMPv6 by its IPv4 name, as Neutron's API takes it; echo requests only.
        await RuleAsync(group, new JsonObject { ["direction"] = "ingress", ["ethertype"] = "IPv6", ["protocol"] = "icmp", ["port_range_min"] = 128 });
        await WaitUntilAsync(() => a.PingAsync(b), "an IPv6 ping once echo requests may come in");
        // Neighbor discovery worked: each knows the other's MAC (from its own address, through the spoof chain).
        Assert.Contains("lladdr", await a.ExecAsync("ip", "-6", "neigh", "show", b.Ip));

        var spoofed = network.Address(99);
        await a.ExecAsync("ip", "-6", "addr", "add", spoofed + "/64", "dev", "eth0", "nodad");
        Assert.False(await a.PingAsync(b, from: spoofed));
        Assert.True(await a.PingAsync(b, from: a.Ip));
    }

    [Fact]
    public async Task A_guest_whose_group_lets_nothing_in_still_gets_its_DHCP_lease()
    {
        var network = await NetworkAsync(dhcp: true);
        var guest = await GuestAsync(network, 60, await GroupAsync());
        // udhcpc's script prints the address it was offered; -n fails when no lease comes within its tries.
        var script = Path.Combine(Path.GetTempPath(), "stratus-sg-udhcpc-" + Guid.NewGuid().ToString("N")[..8]);
        await File.WriteAllTextAsync(script, "#!/bin/sh\n[ \"$1\" = bound ] && echo \"leased=$ip\"\nexit 0\n");
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            string? lease = null;
            await WaitUntilAsync(async () =>
            {
                try
                {
                    lease = await guest.ExecAsync("busybox", "udhcpc", "-f", "-q", "-n", "-t", "3", "-T", "1", "-i", "eth0", "-s", script);
                    return true;
                }
                catch (HostCommandException)
                {
                    return false; // the DHCP agent's dnsmasq is not serving yet
                }
            }, "a DHCP lease", seconds: 45);
            Assert.Contains($"leased={guest.Ip}", lease);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Fact]
    public async Task Tcp_reaches_the_ports_a_rule_opens_and_no_other()
    {
        var network = await NetworkAsync();
        var a = await GuestAsync(network, 20, await GroupAsync());
        var b = await GuestAsync(network, 21, await GroupAsync(Ingress("tcp", 8000, 8080)));
        await _test.ServeAsync(b.Namespace, 8080);
        await _test.ServeAsync(b.Namespace, 8081);
        // The server sees the connection come from A itself.
        Assert.Equal(a.Ip, await TestNamespaces.TryGetAsync(a.Namespace, $"http://{b.Ip}:8080/cgi-bin/peer"));
        Assert.Null(await TestNamespaces.TryGetAsync(a.Namespace, $"http://{b.Ip}:8081/cgi-bin/peer"));
    }

    [Fact]
    public async Task A_spoofed_source_address_or_MAC_is_dropped_allowed_address_pairs_and_disabled_port_security_let_it_through()
    {
        var network = await NetworkAsync();
        var group = await GroupAsync(Ingress("icmp"));
        var a = await GuestAsync(network, 30, group);
        var b = await GuestAsync(network, 31, group);
        Assert.True(await a.PingAsync(b));

        var spoofed = network.Address(99);
        await a.ExecAsync("ip", "addr", "add", spoofed + "/24", "dev", "eth0");
        Assert.False(await a.PingAsync(b, from: spoofed));
        Assert.True(await a.PingAsync(b, from: a.Ip));

        var mac = (string)(await net.Admin().GetFromJsonAsync<JsonObject>($"v2.0/ports/{a.PortId}"))!["port"]!["mac_address"]!;
        await a.ExecAsync("ip", "link", "set", "eth0", "address", "fa:16:3e:12:34:56");
        Assert.False(await a.PingAsync(b));
        await a.ExecAsync("ip", "link", "set", "eth0", "address", mac);
        Assert.True(await a.PingAsync(b));

        await UpdatePortAsync(a, new JsonObject { ["allowed_address_pairs"] = new JsonArray(new JsonObject { ["ip_address"] = spoofed }) });
        await WaitUntilAsync(() => a.PingAsync(b, from: spoofed), "a ping from an allowed address pair");

        var unlisted = network.Address(98);
        await a.ExecAsync("ip", "addr", "add", unlisted + "/24", "dev", "eth0");
        Assert.False(await a.PingAsync(b, from: unlisted));
        await UpdatePortAsync(a, new JsonObject { ["port_security_enabled"] = false, ["security_groups"] = new JsonArray(), ["allowed_address_pairs"] = new JsonArray() });
        await WaitUntilAsync(() => a.PingAsync(b, from: unlisted), "a ping from any address once port security is off");
        // And from any MAC (a fresh address, so that B asks for the new MAC).
        var fresh = network.Address(97);
        await a.ExecAsync("ip", "link", "set", "eth0", "address", "fa:16:3e:12:34:57");
        await a.ExecAsync("ip", "addr", "add", fresh + "/24", "dev", "eth0");
        Assert.True(await a.PingAsync(b, from: fresh));
    }

    [Fact]
    public async Task A_remote_group_rule_follows_the_group_s_membership()
    {
        var network = await NetworkAsync();
        var (clients, others) = (await GroupAsync(), await GroupAsync());
        var servers = await GroupAsync(Ingress("icmp", remoteGroup: clients));
        var server = await GuestAsync(network, 40, servers);
        var client = await GuestAsync(network, 41, clients);
        var stranger = await GuestAsync(network, 42, others);
        Assert.True(await client.PingAsync(server));
        Assert.False(await stranger.PingAsync(server));

        await UpdatePortAsync(stranger, new JsonObject { ["security_groups"] = new JsonArray(others, clients) });
        await WaitUntilAsync(() => stranger.PingAsync(server), "the new member's ping");
        await UpdatePortAsync(client, new JsonObject { ["security_groups"] = new JsonArray(others) });
        await WaitUntilAsync(async () => !await client.PingAsync(server), "the former member's ping failing");
        Assert.True(await stranger.PingAsync(server));
    }

    static async Task<List<string>> OurTablesAsync(string host)
    {
        using var doc = JsonDocument.Parse(await HostCommand.RunAsync("nft", ["-j", "list", "ruleset"]));
        var table = PortFirewall.TableOf(host);
        return [.. doc.RootElement.GetProperty("nftables").EnumerateArray()
            .Select(e => e.TryGetProperty("table", out var t) ? t : e.TryGetProperty("chain", out var c) ? c : e.TryGetProperty("set", out var s) ? s : default)
            .Where(e => e.ValueKind == JsonValueKind.Object && (e.TryGetProperty("table", out var n) ? n.GetString() : e.GetProperty("name").GetString()) == table)
            .Select(e => e.GetProperty("name").GetString()!)];
    }

    [Fact]
    public async Task Nothing_of_the_firewall_is_left_once_its_ports_and_then_its_agent_are_gone()
    {
        // A node of its own, to stop its agent.
        var node = new NetworkServer();
        await node.InitializeAsync();
        var host = node.Node.Options<NetworkOptions>().Host;
        var other = new SecurityGroupFirewallTests(node);
        string? bridge = null;
        try
        {
            var network = await other.NetworkAsync();
            bridge = NetworkBridges.BridgeOf(network.NetworkId);
            var group = await other.GroupAsync(Ingress("icmp"));
            var a = await other.GuestAsync(network, 50, group);
            var b = await other.GuestAsync(network, 51, group);
            Assert.Contains(PortFirewall.TableOf(host), await OurTablesAsync(host));
            Assert.True(await a.PingAsync(b));
            Assert.Contains("i" + b.Tap[3..], await OurTablesAsync(host));

            await HostCommand.RunAsync("ip", ["link", "delete", b.Tap]);
            await WaitUntilAsync(async () => !(await OurTablesAsync(host)).Contains("i" + b.Tap[3..]), "the gone port's chain going");
            Assert.Contains("i" + a.Tap[3..], await OurTablesAsync(host));
            await HostCommand.RunAsync("ip", ["link", "delete", a.Tap]);
            await WaitUntilAsync(async () => (await OurTablesAsync(host)).Count == 0, "the tables going with the last port");

            var c = await other.GuestAsync(network, 52, group);
            Assert.Contains("i" + c.Tap[3..], await OurTablesAsync(host));
            await node.Node.StopAsync();
            Assert.Empty(await OurTablesAsync(host));
        }
        finally
        {
            await other.DisposeAsync();
            await node.DisposeAsync();
            // The stopped agent left the bridge to the port still in it, as Neutron's does.
            var bridges = new NetworkBridges(new HostNetwork(), null, new Dictionary<string, string>());
            if (bridge is not null && await bridges.ExistsAsync(bridge, default)) await bridges.RemoveAsync(bridge, default);
        }
        Assert.Empty(await OurTablesAsync(host));
    }
}
