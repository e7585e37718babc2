using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Stratus.Core.Processes;
using Stratus.Network.DataPlane;

namespace Stratus.Network.Tests;

/// <summary>
/// The L3 agent's routers for real (as root, as the agent runs): a test "host" namespace with the networks'
/// bridges, a router namespace plugged into them, guests in namespaces of the test's own on two internal
/// networks, and an "outside" namespace on the external network's physical interface (one end of a veth the
/// test made). Nothing leaves these namespaces.
/// </summary>
public sealed class RouterNamespacesTests : IAsyncLifetime
{
    readonly TestNamespaces _test = new();
    readonly string _state = Path.Combine(Path.GetTempPath(), "stratus-l3-" + Guid.NewGuid().ToString("N")[..8]);
    readonly int _octet = Random.Shared.Next(10, 250);
    readonly string _routerId = Guid.NewGuid().ToString();
    readonly string _external = Guid.NewGuid().ToString(), _net1 = Guid.NewGuid().ToString(), _net2 = Guid.NewGuid().ToString();
    readonly string _extSubnet = Guid.NewGuid().ToString(), _subnet1 = Guid.NewGuid().ToString(), _subnet2 = Guid.NewGuid().ToString();
    HostNetwork _host = null!, _guest1 = null!, _guest2 = null!, _outside = null!;
    NetworkBridges _bridges = null!;
    RouterNamespaces? _routers;
    WebApplication? _metadataAgent;

    string Internal(int net, int last) => $"10.{_octet}.{net}.{last}";
    string Public(int last) => $"172.31.{_octet}.{last}";

    public async Task InitializeAsync()
    {
        _host = await _test.NamespaceAsync("host");
        _guest1 = await _test.NamespaceAsync("g1");
        _guest2 = await _test.NamespaceAsync("g2");
        _outside = await _test.NamespaceAsync("out");
        Directory.CreateDirectory(_state);
        // The external network is flat on "provider", which this host maps to one end of a veth whose other end is outside.
        await _test.WireAsync(_host, "ext0", _outside, "fa:16:3e:0e:00:01", Public(1) + "/24", null);
        _bridges = new NetworkBridges(_host, null, new Dictionary<string, string> { ["provider"] = "ext0" });
        await _bridges.EnsureAsync(new NetworkBridges.Wiring(_external, "flat", "provider", null, 1500), default);
        foreach (var net in new[] { _net1, _net2 }) await _bridges.EnsureAsync(new NetworkBridges.Wiring(net, "local", null, null, 1450), default);
        await _test.WireAsync(_host, "tapguest1", _guest1, "fa:16:3e:01:00:0a", Internal(1, 10) + "/24", Internal(1, 1), 1450);
        await _test.WireAsync(_host, "tapguest2", _guest2, "fa:16:3e:02:00:0a", Internal(2, 10) + "/24", Internal(2, 1), 1450);
        await _bridges.PlugAsync("tapguest1", _net1, default);
        await _bridges.PlugAsync("tapguest2", _net2, default);
    }

    public async Task DisposeAsync()
    {
        if (_routers is not null)
            try { await _routers.ReconcileAsync([], default); }
            catch (Exception) { /* the namespace below goes anyway */ }
        await new HostNetwork(RouterNamespaces.NamespaceOf(_routerId)).DeleteNamespaceAsync(default);
        await _test.DisposeAsync();
        if (_metadataAgent is not null) await _metadataAgent.DisposeAsync();
        if (Directory.Exists(_state)) Directory.Delete(_state, recursive: true);
    }

    RouterNamespaces.Port Interface(string portId, string networkId, string subnetId, int net) =>
        new(portId, networkId, $"fa:16:3e:0{net}:00:01", 1450, [new(subnetId, Internal(net, 1), 24)], [new(subnetId, $"10.{_octet}.{net}.0/24", Internal(net, 1))]);

    readonly string _port1 = Guid.NewGuid().ToString(), _port2 = Guid.NewGuid().ToString(), _gwPort = Guid.NewGuid().ToString(), _fipId = Guid.NewGuid().ToString();

    RouterNamespaces.Router Router(bool gateway = false, bool snat = true, bool floating = false, params RouterNamespaces.Route[] routes) => new(
        _routerId, snat,
        gateway ? new(_gwPort, _external, "fa:16:3e:0e:00:02", 1500, [new(_extSubnet, Public(2), 24)], [new(_extSubnet, $"172.31.{_octet}.0/24", Public(1))]) : null,
        [Interface(_port1, _net1, _subnet1, 1), Interface(_port2, _net2, _subnet2, 2)],
        routes,
        floating ? [new(_fipId, Public(10), Internal(1, 10))] : []);

    /// <summary>The metadata agent's socket, here a listener answering with what the router's proxy told it.</summary>
    async Task<string> MetadataAgentAsync()
    {
        var socket = Path.Combine(_state, "metadata_proxy");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socket));
        _metadataAgent = builder.Build();
        _metadataAgent.Run(http => http.Response.WriteAsync(
            $"{http.Request.Path} router={http.Request.Headers["X-Neutron-Router-ID"]} network={http.Request.Headers["X-Neutron-Network-ID"]} from={http.Request.Headers["X-Forwarded-For"]}"));
        await _metadataAgent.StartAsync();
        return socket;
    }

    RouterNamespaces NewRouters(string socket) =>
        new(_bridges, Path.Combine(_state, "l3"), new(new MetadataProxies(Path.Combine(_state, "ns-metadata-proxy"), socket)));

    static async Task<string> RouterStateAsync(string ns) =>
        string.Join("\n",
            await HostCommand.RunAsync("ip", ["-n", ns, "-d", "-j", "link", "show"]),
            await HostCommand.RunAsync("ip", ["-n", ns, "-j", "addr", "show"]),
            await HostCommand.RunAsync("ip", ["-n", ns, "-j", "route", "show"]),
            await HostCommand.RunAsync("ip", ["netns", "exec", ns, "nft", "list", "ruleset"]));

    [Fact]
    public async Task A_router_forwards_between_its_subnets_snats_to_its_gateway_serves_floating_ips_and_metadata_and_goes_without_a_trace()
    {
        _routers = NewRouters(await MetadataAgentAsync());
        var ns = RouterNamespaces.NamespaceOf(_routerId);

        // Two interfaces: the guests of the two subnets reach each other through the router.
        var done = await _routers.ReconcileAsync([Router()], default);
        Assert.Empty(done.Failures);
        Assert.Empty(done.FloatingIps);
        var hosted = Assert.Single(await _routers.ListAsync(default));
        Assert.Equal(ns, hosted.Namespace);
        Assert.Equal(new[] { "qr-" + _port1[..11], "qr-" + _port2[..11] }.Order(), hosted.Devices);
        Assert.NotNull(hosted.ProxyPid);
        Assert.Contains("tap" + _port1[..11], await _bridges.MembersAsync(NetworkBridges.BridgeOf(_net1), default));
        Assert.Equal("1", (await HostCommand.RunAsync("ip", ["netns", "exec", ns, "sysctl", "-n", "net.ipv4.ip_forward"])).Trim());
        Assert.True(await TestNamespaces.PingsAsync(_guest1, Internal(2, 10)), "guest 1 does not reach guest 2 through the router");
        Assert.True(await TestNamespaces.PingsAsync(_guest2, Internal(1, 10)), "guest 2 does not reach guest 1 through the router");

        // The metadata address reaches the router's proxy, which names the router and the guest; its port is closed otherwise.
        Assert.Equal($"/openstack/latest/meta_data.json router={_routerId} network= from={Internal(1, 10)}",
            await TestNamespaces.TryGetAsync(_guest1, "http://169.254.169.254/openstack/latest/meta_data.json"));
        Assert.Null(await TestNamespaces.TryGetAsync(_guest1, $"http://{Internal(1, 1)}:9697/"));

        // A gateway: the outside sees the guests' connections come from the router's gateway address.
        await _test.ServeAsync(_outside, 8080);
        Assert.Null(await TestNamespaces.TryGetAsync(_guest2, $"http://{Public(1)}:8080/cgi-bin/peer"));
        await _routers.ReconcileAsync([Router(gateway: true)], default);
        Assert.Equal(Public(2), await TestNamespaces.TryGetAsync(_guest2, $"http://{Public(1)}:8080/cgi-bin/peer"));
        Assert.Contains("tap" + _gwPort[..11], await _bridges.MembersAsync(NetworkBridges.BridgeOf(_external), default));
        Assert.False(await TestNamespaces.PingsAsync(_outside, Public(10)));

        // A floating IP: the outside reaches guest 1 at it, guest 1's own connections leave from it, and a
        // guest reaching it from inside comes through the router's gateway address, so that replies return.
        await _test.ServeAsync(_guest1, 8081);
        done = await _routers.ReconcileAsync([Router(gateway: true, floating: true)], default);
        Assert.Equal(new[] { new RouterNamespaces.FloatingIpStatus(_routerId, _fipId, "ACTIVE") }, done.FloatingIps);
        Assert.True(await TestNamespaces.PingsAsync(_outside, Public(10)), "the outside does not reach the floating IP");
        Assert.Equal(Public(1), await TestNamespaces.TryGetAsync(_outside, $"http://{Public(10)}:8081/cgi-bin/peer"));
        Assert.Equal(Public(10), await TestNamespaces.TryGetAsync(_guest1, $"http://{Public(1)}:8080/cgi-bin/peer"));
        Assert.Equal(Public(2), await TestNamespaces.TryGetAsync(_guest2, $"http://{Public(1)}:8080/cgi-bin/peer"));
        Assert.Equal(Public(2), await TestNamespaces.TryGetAsync(_guest2, $"http://{Public(10)}:8081/cgi-bin/peer"));

        // An extra route goes into the namespace, and out again.
        var route = new RouterNamespaces.Route($"192.168.{_octet}.0/24", Internal(2, 10));
        await _routers.ReconcileAsync([Router(gateway: true, floating: true, routes: route)], default);
        Assert.Contains($"192.168.{_octet}.0/24 via {Internal(2, 10)}", await HostCommand.RunAsync("ip", ["-n", ns, "route", "show"]), StringComparison.Ordinal);

        // A restart (a new agent on the same state) finds everything in place and changes nothing.
        var before = await RouterStateAsync(ns);
        var restarted = NewRouters(Path.Combine(_state, "metadata_proxy"));
        done = await restarted.ReconcileAsync([Router(gateway: true, floating: true, routes: route)], default);
        Assert.Empty(done.Failures);
        Assert.Equal(new[] { new RouterNamespaces.FloatingIpStatus(_routerId, _fipId, "ACTIVE") }, done.FloatingIps);
        Assert.Equal(before, await RouterStateAsync(ns));
        Assert.Equal(hosted.ProxyPid, Assert.Single(await restarted.ListAsync(default)).ProxyPid);
        using (var addresses = JsonDocument.Parse(await HostCommand.RunAsync("ip", ["-n", ns, "-j", "addr", "show", "dev", "qg-" + _gwPort[..11], "scope", "global"])))
            Assert.Equal(new[] { Public(2) + "/24", Public(10) + "/32" }.Order(), addresses.RootElement[0].GetProperty("addr_info").EnumerateArray()
                .Where(a => a.TryGetProperty("local", out _)).Select(a => $"{a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}").Order());
        _routers = restarted;

        // The floating IP gone: DOWN, unreachable, its address off the gateway; the route gone too.
        done = await _routers.ReconcileAsync([Router(gateway: true)], default);
        Assert.Equal(new[] { new RouterNamespaces.FloatingIpStatus(_routerId, _fipId, "DOWN") }, done.FloatingIps);
        Assert.False(await TestNamespaces.PingsAsync(_outside, Public(10)));
        Assert.Null(await TestNamespaces.TryGetAsync(_outside, $"http://{Public(10)}:8081/cgi-bin/peer"));
        Assert.DoesNotContain(Public(10), await HostCommand.RunAsync("ip", ["-n", ns, "addr", "show"]), StringComparison.Ordinal);
        Assert.DoesNotContain("192.168.", await HostCommand.RunAsync("ip", ["-n", ns, "route", "show"]), StringComparison.Ordinal);
        Assert.Equal(Public(2), await TestNamespaces.TryGetAsync(_guest1, $"http://{Public(1)}:8080/cgi-bin/peer"));

        // SNAT off: the internal addresses leave unchanged, and the outside has no way back to them.
        await _routers.ReconcileAsync([Router(gateway: true, snat: false)], default);
        Assert.Null(await TestNamespaces.TryGetAsync(_guest2, $"http://{Public(1)}:8080/cgi-bin/peer"));

        // An interface removed goes with its tap; the router removed goes with its namespace, proxy and state.
        var one = Router() with { Interfaces = [Interface(_port1, _net1, _subnet1, 1)] };
        await _routers.ReconcileAsync([one], default);
        Assert.Equal(new[] { "qr-" + _port1[..11] }, Assert.Single(await _routers.ListAsync(default)).Devices);
        Assert.DoesNotContain((await _host.LinksAsync(default)).Select(l => l.Name), n => n == "tap" + _port2[..11] || n == "tap" + _gwPort[..11]);
        await _routers.ReconcileAsync([], default);
        Assert.Empty(await _routers.ListAsync(default));
        Assert.False(File.Exists(Path.Combine("/run/netns", ns)));
        Assert.DoesNotContain((await _host.LinksAsync(default)).Select(l => l.Name), n => n.StartsWith("tap", StringComparison.Ordinal) && !n.StartsWith("tapguest", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(_state, "l3", _routerId)));
        Assert.Empty(new MetadataProxies(Path.Combine(_state, "ns-metadata-proxy"), "").List());
        Assert.DoesNotContain(Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(d => d!.All(char.IsAsciiDigit)),
            pid => { try { return File.ReadAllText($"/proc/{pid}/cmdline").Contains(_state, StringComparison.Ordinal); } catch (IOException) { return false; } });
    }

    /// <summary>Neutron's rules for the same router (its iptables rules as nftables), checked by nft itself.</summary>
    [Fact]
    public async Task The_nat_rules_are_Neutrons_and_nft_accepts_them()
    {
        var routers = new RouterNamespaces(_bridges, "/var/lib/stratus/l3", new(new MetadataProxies("/x", "/y")));
        var rules = routers.NatRules(Router(gateway: true, floating: true));
        var qg = "qg-" + _gwPort[..11];
        Assert.Equal($$"""
            table ip neutron-l3-agent
            delete table ip neutron-l3-agent
            table ip neutron-l3-agent {
            	chain mangle-prerouting {
            		type filter hook prerouting priority mangle; policy accept;
            		ip daddr 169.254.169.254 iifname "qr-*" tcp dport 80 meta mark set meta mark & 0xffff0000 | 0x1
            		iifname "{{qg}}" meta mark set meta mark & 0xffff0000 | 0x2
            	}
            	chain filter-input {
            		type filter hook input priority filter; policy accept;
            		meta mark & 0x0000ffff == 0x1 accept
            		tcp dport 9697 drop
            	}
            	chain nat-prerouting {
            		type nat hook prerouting priority dstnat; policy accept;
            		ip daddr 169.254.169.254 iifname "qr-*" tcp dport 80 redirect to :9697
            		ip daddr {{Public(10)}} dnat to {{Internal(1, 10)}}
            	}
            	chain nat-output {
            		type nat hook output priority -100; policy accept;
            		ip daddr {{Public(10)}} dnat to {{Internal(1, 10)}}
            	}
            	chain nat-postrouting {
            		type nat hook postrouting priority srcnat; policy accept;
            		oifname != "{{qg}}" ct status & dnat == 0 accept
            		ip saddr {{Internal(1, 10)}} snat to {{Public(10)}}
            		oifname "{{qg}}" snat to {{Public(2)}}
            		meta mark & 0x0000ffff != 0x2 ct status dnat snat to {{Public(2)}}
            	}
            }

            """, rules);
        // Without SNAT only the gateway's own SNAT goes; without a gateway or metadata proxy, their rules go.
        Assert.DoesNotContain($"oifname \"{qg}\" snat", routers.NatRules(Router(gateway: true, snat: false)), StringComparison.Ordinal);
        var bare = new RouterNamespaces(_bridges, "/x").NatRules(Router());
        Assert.DoesNotContain("qg-", bare, StringComparison.Ordinal);
        Assert.DoesNotContain("9697", bare, StringComparison.Ordinal);
        var file = Path.Combine(_state, "check.nft");
        await File.WriteAllTextAsync(file, rules);
        await HostCommand.RunAsync("ip", ["netns", "exec", _host.Namespace!, "nft", "-c", "-f", file]);
    }
}
