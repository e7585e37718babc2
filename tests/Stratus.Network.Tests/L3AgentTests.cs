using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Core.Processes;
using Stratus.Network.DataPlane;
using static Stratus.Testing.NeutronCalls;

namespace Stratus.Network.Tests;

/// <summary>
/// The all-in-one network node whose Linux bridge agent maps the physical network "provider" to one end of a
/// veth pair the test makes (the other end is in an "outside" namespace): the external network stays on this
/// machine. Agents report every 2 s, so their counts show soon.
/// </summary>
public sealed class L3NetworkServer : NetworkServer
{
    public string ExternalInterface { get; } = "l3x" + Guid.NewGuid().ToString("N")[..8];
    public string Host => Node.Options<NetworkOptions>().Host;

    protected override IReadOnlyDictionary<string, string>? PostConfig => new Dictionary<string, string>
    {
        ["neutron/" + LinuxBridgeOptions.File] = $"[linux_bridge]\nphysical_interface_mappings = provider:{ExternalInterface}\n",
        [NetworkModule.NeutronConf] = "[agent]\nreport_interval = 2\n",
    };
}

/// <summary>
/// The L3 agent for real (as root, on this machine's network stack, as the agent runs): routers made through the
/// API and the openstack CLI are scheduled to the node's L3 agent, which makes their qrouter namespaces; guests
/// are namespaces on veths named like their ports' taps, which the Linux bridge agent wires.
/// </summary>
public sealed class L3AgentTests(L3NetworkServer net) : IClassFixture<L3NetworkServer>, IAsyncLifetime
{
    readonly TestNamespaces _test = new();
    readonly int _octet = Random.Shared.Next(10, 250);
    HostNetwork _outside = null!;

    string Internal(int net, int last) => $"10.{_octet}.{net}.{last}";
    string Public(int last) => $"172.31.{_octet}.{last}";

    public async Task InitializeAsync()
    {
        _outside = await _test.NamespaceAsync("out");
        await _test.WireAsync(new HostNetwork(), net.ExternalInterface, _outside, "fa:16:3e:0e:00:01", Public(1) + "/24", null);
    }

    public async Task DisposeAsync()
    {
        await _test.DisposeAsync();
        // The test's networks with their bridges: the node's agent, stopping, would leave them on the host.
        await DeleteEverythingAsync(net.Admin());
    }

    async Task RunAsync(params string[] args) =>
        (await ProcessRunner.RunAsync("openstack", args, net.AdminEnv())).EnsureSuccess("openstack " + string.Join(' ', args));

    async Task<JsonObject> GetAsync(string path) => await ExpectAsync(net.Admin().GetAsync(path), HttpStatusCode.OK);

    async Task<JsonObject> L3AgentAsync() =>
        (await Poll.UntilAsync(async () => (await GetAsync($"v2.0/agents?agent_type=L3+agent&host={net.Host}"))["agents"]!.AsArray(),
            a => a.Count == 1 && (bool)a[0]!["alive"]!, "the node's L3 agent alive"))[0]!.AsObject();

    async Task<(string NetworkId, string SubnetId)> NetworkAsync(JsonObject network, JsonObject subnet)
    {
        network["name"] = Name("l3");
        var n = await ExpectAsync(net.Admin().PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = network }), HttpStatusCode.Created);
        subnet["network_id"] = (string)n["network"]!["id"]!;
        subnet["ip_version"] = 4;
        var s = await ExpectAsync(net.Admin().PostAsJsonAsync("v2.0/subnets", new JsonObject { ["subnet"] = subnet }), HttpStatusCode.Created);
        return ((string)n["network"]!["id"]!, (string)s["subnet"]!["id"]!);
    }

    /// <summary>A tenant network on a VNI of its own, far from the ones other nodes on this machine hand out.</summary>
    Task<(string NetworkId, string SubnetId)> InternalAsync(int net) => NetworkAsync(
        new JsonObject { ["provider:network_type"] = "vxlan", ["provider:segmentation_id"] = Random.Shared.Next(100_000, 16_000_000) },
        // The guests' addresses (.10) are outside the pool the DHCP port takes its address from.
        new JsonObject
        {
            ["cidr"] = $"10.{_octet}.{net}.0/24",
            ["allocation_pools"] = new JsonArray(new JsonObject { ["start"] = Internal(net, 100), ["end"] = Internal(net, 200) }),
        });

    Task<(string NetworkId, string SubnetId)> ExternalAsync() => NetworkAsync(
        new JsonObject { ["router:external"] = true, ["provider:network_type"] = "flat", ["provider:physical_network"] = "provider" },
        new JsonObject { ["cidr"] = $"172.31.{_octet}.0/24", ["gateway_ip"] = Public(1), ["enable_dhcp"] = false });

    Task<string>? _group;

    /// <summary>
    /// The guests' security group: ICMP and the web port in from anywhere, as a user opens a group for a floating
    /// IP (the default group lets in only its own members, and the Linux bridge agent enforces it).
    /// </summary>
    Task<string> GroupAsync() => _group ??= NewGroupAsync();

    async Task<string> NewGroupAsync()
    {
        var g = await ExpectAsync(net.Admin().PostAsJsonAsync("v2.0/security-groups", new JsonObject { ["security_group"] = new JsonObject { ["name"] = Name("l3") } }),
            HttpStatusCode.Created);
        var id = (string)g["security_group"]!["id"]!;
        foreach (var (protocol, port) in new[] { ("icmp", (int?)null), ("tcp", 8081) })
            await ExpectAsync(net.Admin().PostAsJsonAsync("v2.0/security-group-rules", new JsonObject
            {
                ["security_group_rule"] = new JsonObject
                {
                    ["security_group_id"] = id, ["direction"] = "ingress", ["protocol"] = protocol, ["port_range_min"] = port, ["port_range_max"] = port,
                },
            }), HttpStatusCode.Created);
        return id;
    }

    /// <summary>A guest's port bound to this host, and the guest: a namespace on a veth named like the port's tap.</summary>
    async Task<(string PortId, HostNetwork Guest)> GuestAsync(string networkId, string subnetId, int net1)
    {
        var p = await ExpectAsync(net.Admin().PostAsJsonAsync("v2.0/ports", new JsonObject
        {
            ["port"] = new JsonObject
            {
                ["network_id"] = networkId, ["binding:host_id"] = net.Host, ["device_owner"] = "compute:nova",
                ["security_groups"] = new JsonArray(await GroupAsync()),
                ["fixed_ips"] = new JsonArray(new JsonObject { ["subnet_id"] = subnetId, ["ip_address"] = Internal(net1, 10) }),
            },
        }), HttpStatusCode.Created);
        var port = p["port"]!;
        var guest = await _test.NamespaceAsync("g" + net1);
        await _test.WireAsync(new HostNetwork(), NetworkBridges.TapOf((string)port["id"]!), guest, (string)port["mac_address"]!, Internal(net1, 10) + "/24", Internal(net1, 1), 1450);
        return ((string)port["id"]!, guest);
    }

    static bool NamespaceExists(string routerId) => File.Exists(Path.Combine("/run/netns", RouterNamespaces.NamespaceOf(routerId)));

    /// <summary>The processes whose command line names the router (its haproxy).</summary>
    static List<int> ProcessesOf(string routerId) =>
        [.. Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(d => d!.All(char.IsAsciiDigit)).Select(int.Parse!)
            .Where(pid => { try { return File.ReadAllText($"/proc/{pid}/cmdline").Contains(routerId, StringComparison.Ordinal); } catch (IOException) { return false; } })];

    async Task<List<string>> RouterTapsAsync(string routerId) =>
        [.. (await GetAsync($"v2.0/ports?device_id={routerId}"))["ports"]!.AsArray().Select(p => NetworkBridges.TapOf((string)p!["id"]!))];

    async Task<JsonObject> FloatingIpAsync(string id) => (await GetAsync($"v2.0/floatingips/{id}"))["floatingip"]!.AsObject();

    /// <summary>A router a test made, gone with its floating IPs and interfaces, whatever state the test left it in.</summary>
    async Task RemoveRouterAsync(string routerId)
    {
        var admin = net.Admin();
        try
        {
            foreach (var f in (await GetAsync($"v2.0/floatingips?router_id={routerId}"))["floatingips"]!.AsArray())
                await admin.DeleteAsync($"v2.0/floatingips/{(string)f!["id"]!}");
            foreach (var p in (await GetAsync($"v2.0/ports?device_id={routerId}&device_owner=network:router_interface"))["ports"]!.AsArray())
                await admin.PutAsJsonAsync($"v2.0/routers/{routerId}/remove_router_interface", new JsonObject { ["port_id"] = (string)p!["id"]! });
            await admin.DeleteAsync($"v2.0/routers/{routerId}");
        }
        catch (Exception)
        {
            // A test that failed with its node stopped: stopping the node at the end removes the router's namespace anyway.
        }
    }

    [Fact]
    public async Task A_router_on_the_L3_agent_routes_its_guests_snats_them_floats_one_survives_a_restart_and_goes_without_a_trace()
    {
        var l3 = await L3AgentAsync();
        var l3Id = (string)l3["id"]!;
        var (extId, _) = await ExternalAsync();
        var (net1, sub1) = await InternalAsync(1);
        var (net2, sub2) = await InternalAsync(2);
        var routerName = Name("router");
        var routerId = (string)(await net.OpenStackAsync("router", "create", routerName))["id"]!;
        try
        {
            await RouterAsync(l3Id, extId, (net1, sub1), (net2, sub2), routerId, routerName);
        }
        finally
        {
            await RemoveRouterAsync(routerId);
        }
    }

    async Task RouterAsync(string l3Id, string extId, (string Id, string Subnet) first, (string Id, string Subnet) second, string routerId, string routerName)
    {
        var (net1, sub1) = first;
        var (net2, sub2) = second;
        await RunAsync("router", "add", "subnet", routerName, sub1);
        await RunAsync("router", "add", "subnet", routerName, sub2);
        await RunAsync("router", "set", "--external-gateway", extId, routerName);
        var gwIp = (string)(await GetAsync($"v2.0/routers/{routerId}"))["router"]!["external_gateway_info"]!["external_fixed_ips"]![0]!["ip_address"]!;
        var (port1, guest1) = await GuestAsync(net1, sub1, 1);
        var (_, guest2) = await GuestAsync(net2, sub2, 2);

        // Scheduled to the node's L3 agent, which the CLI shows both ways; the router's ports bound to its host and ACTIVE.
        var hosting = (await net.OpenStackAsync("network", "agent", "list", "--router", routerId)).AsArray();
        Assert.Equal(l3Id, (string?)Assert.Single(hosting)!["ID"]);
        Assert.Contains((await net.OpenStackAsync("router", "list", "--agent", l3Id)).AsArray(), r => (string?)r!["ID"] == routerId);
        Assert.Equal(new[] { "nova" }, (await GetAsync($"v2.0/routers/{routerId}"))["router"]!["availability_zones"]!.AsArray().Select(z => (string?)z));
        var ports = await Poll.UntilAsync(async () => (await GetAsync($"v2.0/ports?device_id={routerId}"))["ports"]!.AsArray(),
            p => p.Count == 3 && p.All(x => (string?)x!["status"] == "ACTIVE"), "the router's three ports ACTIVE");
        Assert.All(ports, p => Assert.Equal(net.Host, (string?)p!["binding:host_id"]));
        Assert.All(ports, p => Assert.Equal("bridge", (string?)p!["binding:vif_type"]));

        // The guests of the two subnets reach each other through it; the DHCP agent leaves their metadata to the router's proxy.
        await Poll.UntilAsync(() => TestNamespaces.PingsAsync(guest1, Internal(2, 10)), ok => ok, "guest 1 reaching guest 2");
        Assert.True(await TestNamespaces.PingsAsync(guest2, Internal(1, 10)));
        var proxies = Path.Combine(net.Node.Options<NetworkOptions>().StatePath, "ns-metadata-proxy");
        await Poll.UntilAsync(() => Task.FromResult(File.Exists(Path.Combine(proxies, net1 + ".conf"))), exists => !exists, "the DHCP agent's proxy of a routed network stopping");
        Assert.NotNull(new MetadataProxies(proxies, "").RunningPid(routerId));

        // SNAT: the outside sees the guest's connection come from the router's gateway address.
        await _test.ServeAsync(_outside, 8080);
        Assert.Equal(gwIp, await Poll.UntilAsync(() => TestNamespaces.TryGetAsync(guest2, $"http://{Public(1)}:8080/cgi-bin/peer"), a => a is not null, "guest 2 reaching outside"));

        // A floating IP for guest 1: ACTIVE once the agent serves it, reached from outside, guest 1's connections leave from it.
        await _test.ServeAsync(guest1, 8081);
        var fip = await net.OpenStackAsync("floating", "ip", "create", extId);
        var (fipId, fipAddress) = ((string)fip["id"]!, (string)fip["floating_ip_address"]!);
        await RunAsync("floating", "ip", "set", "--port", port1, fipId);
        await Poll.UntilAsync(() => FloatingIpAsync(fipId), f => (string?)f["status"] == "ACTIVE", "the floating IP going ACTIVE");
        Assert.True(await TestNamespaces.PingsAsync(_outside, fipAddress), "the outside does not reach the floating IP");
        Assert.Equal(Public(1), await TestNamespaces.TryGetAsync(_outside, $"http://{fipAddress}:8081/cgi-bin/peer"));
        Assert.Equal(fipAddress, await TestNamespaces.TryGetAsync(guest1, $"http://{Public(1)}:8080/cgi-bin/peer"));
        await Poll.UntilAsync(async () => (await GetAsync($"v2.0/agents/{l3Id}"))["agent"]!["configurations"]!,
            c => ((int)c["routers"]!, (int)c["ex_gw_ports"]!, (int)c["interfaces"]!, (int)c["floating_ips"]!) == (1, 1, 2, 1), "the agent reporting its router");

        // Dissociated: DOWN and unreachable.
        await RunAsync("floating", "ip", "unset", "--port", fipId);
        await Poll.UntilAsync(() => FloatingIpAsync(fipId), f => (string?)f["status"] == "DOWN", "the floating IP going DOWN");
        Assert.False(await TestNamespaces.PingsAsync(_outside, fipAddress));
        Assert.Null(await TestNamespaces.TryGetAsync(_outside, $"http://{fipAddress}:8081/cgi-bin/peer"));
        Assert.Equal(gwIp, await TestNamespaces.TryGetAsync(guest1, $"http://{Public(1)}:8080/cgi-bin/peer"));

        // The node stops: its agent takes its router away; it starts: the router is made again, once.
        var taps = await RouterTapsAsync(routerId);
        await net.Node.StopAsync();
        Assert.False(NamespaceExists(routerId));
        Assert.Empty(ProcessesOf(routerId));
        Assert.DoesNotContain((await new HostNetwork().LinksAsync(default)).Select(l => l.Name), taps.Contains);
        await net.Node.StartAsync();
        await Poll.UntilAsync(() => TestNamespaces.PingsAsync(guest1, Internal(2, 10)), ok => ok, "guest 1 reaching guest 2 after the restart", seconds: 45);
        Assert.Equal(gwIp, await Poll.UntilAsync(() => TestNamespaces.TryGetAsync(guest2, $"http://{Public(1)}:8080/cgi-bin/peer"), a => a is not null, "guest 2 reaching outside after the restart"));
        var ns = RouterNamespaces.NamespaceOf(routerId);
        var devices = (await new HostNetwork(ns).LinksAsync(default)).Select(l => l.Name).Where(n => n != "lo").Order().ToList();
        Assert.Equal(taps.Select(t => t[3..]).Order(), devices.Select(d => d[3..]).Order());
        var addresses = await HostCommand.RunAsync("ip", ["-n", ns, "-4", "-o", "addr", "show", "scope", "global"]);
        Assert.Equal(3, addresses.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var rules = await HostCommand.RunAsync("ip", ["netns", "exec", ns, "nft", "list", "ruleset"]);
        Assert.Single(rules.Split('\n'), l => l.Contains($"snat to {gwIp}", StringComparison.Ordinal) && l.Contains("oifname \"qg-", StringComparison.Ordinal));
        Assert.Single(ProcessesOf(routerId));

        // Interfaces removed and the router deleted: no namespace, tap or proxy is left.
        await RunAsync("floating", "ip", "delete", fipId);
        await RunAsync("router", "remove", "subnet", routerName, sub1);
        await RunAsync("router", "remove", "subnet", routerName, sub2);
        await RunAsync("router", "delete", routerName);
        await Poll.UntilAsync(() => Task.FromResult(NamespaceExists(routerId)), exists => !exists, "the router's namespace going away");
        Assert.Empty(ProcessesOf(routerId));
        Assert.DoesNotContain((await new HostNetwork().LinksAsync(default)).Select(l => l.Name), taps.Contains);
        Assert.Null(new MetadataProxies(proxies, "").RunningPid(routerId));
    }

    [Fact]
    public async Task The_l3_agent_scheduler_API_shows_moves_and_refuses_as_Neutrons()
    {
        var l3Id = (string)(await L3AgentAsync())["id"]!;
        var (_, subnet) = await InternalAsync(3);
        var routerName = Name("sched");
        var routerId = (string)(await net.OpenStackAsync("router", "create", routerName))["id"]!;
        try
        {
            await SchedulerAsync(l3Id, routerId, routerName, subnet);
        }
        finally
        {
            await RemoveRouterAsync(routerId);
        }
    }

    async Task SchedulerAsync(string l3Id, string routerId, string routerName, string subnet)
    {
        await RunAsync("router", "add", "subnet", routerName, subnet);
        Assert.Equal(l3Id, (string?)Assert.Single((await net.OpenStackAsync("network", "agent", "list", "--router", routerId)).AsArray())!["ID"]);
        await Poll.UntilAsync(() => Task.FromResult(NamespaceExists(routerId)), exists => exists, "the router's namespace");

        // Removed from its agent: hosted nowhere, its namespace goes; added back: there again. Adding twice changes nothing.
        await RunAsync("network", "agent", "remove", "router", "--l3", l3Id, routerId);
        Assert.Empty((await GetAsync($"v2.0/routers/{routerId}/l3-agents"))["agents"]!.AsArray());
        Assert.Empty((await GetAsync($"v2.0/routers/{routerId}"))["router"]!["availability_zones"]!.AsArray());
        await Poll.UntilAsync(() => Task.FromResult(NamespaceExists(routerId)), exists => !exists, "the unhosted router's namespace going away");
        await RunAsync("network", "agent", "add", "router", "--l3", l3Id, routerId);
        await RunAsync("network", "agent", "add", "router", "--l3", l3Id, routerId);
        Assert.Single((await GetAsync($"v2.0/agents/{l3Id}/l3-routers"))["routers"]!.AsArray(), r => (string?)r!["id"] == routerId);
        await Poll.UntilAsync(() => Task.FromResult(NamespaceExists(routerId)), exists => exists, "the router's namespace again");

        // Not an L3 agent, not a router, not the admin.
        var dhcp = (string)(await GetAsync($"v2.0/agents?agent_type=DHCP+agent&host={net.Host}"))["agents"]![0]!["id"]!;
        await ExpectAsync(net.Admin().PostAsJsonAsync($"v2.0/agents/{dhcp}/l3-routers", new JsonObject { ["router_id"] = routerId }),
            HttpStatusCode.NotFound, "InvalidL3Agent");
        await ExpectAsync(net.Admin().PostAsJsonAsync($"v2.0/agents/{l3Id}/l3-routers", new JsonObject { ["router_id"] = Guid.NewGuid().ToString() }),
            HttpStatusCode.NotFound, "RouterNotFound");
        var (member, _) = await net.MemberAsync();
        await ExpectAsync(member.GetAsync($"v2.0/agents/{l3Id}/l3-routers"), HttpStatusCode.Forbidden, "PolicyNotAuthorized");
        await ExpectAsync(member.GetAsync($"v2.0/routers/{routerId}/l3-agents"), HttpStatusCode.Forbidden, "PolicyNotAuthorized");

        await RunAsync("router", "remove", "subnet", routerName, subnet);
        await RunAsync("router", "delete", routerName);
        Assert.DoesNotContain((await GetAsync($"v2.0/agents/{l3Id}/l3-routers"))["routers"]!.AsArray(), r => (string?)r!["id"] == routerId);
        await Poll.UntilAsync(() => Task.FromResult(NamespaceExists(routerId)), exists => !exists, "the deleted router's namespace going away");
    }
}
