using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Stratus.Compute.TestImage;
using Stratus.Compute.Tests.Virt.Qemu;
using Stratus.Core.Processes;
using Stratus.Network;
using Stratus.Network.DataPlane;

namespace Stratus.Compute.Tests;

/// <summary>
/// A region whose compute host boots real guests (the test image under QEMU) on networks its own agents
/// serve: the Linux bridge agent wires the taps, the DHCP agent's dnsmasq leases the ports' addresses, the
/// metadata agent and its haproxy answer 169.254.169.254, the L3 agent routes, all on this machine's kernel.
/// The physical network "provider" (a flat external network's) is one end of a veth pair whose other end is in
/// an "outside" namespace the fixture makes: the external network reaches that namespace and nothing else.
/// </summary>
public sealed partial class QemuNetworkedRegion : NetworkedRegionServer
{
    readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("stratus-guests-");
    readonly string _uplink = "gnx" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The "outside" host: its eth0 holds <see cref="OutsideAddress"/> on the external network's subnet, and it has no other route.</summary>
    public HostNetwork Outside { get; } = new("stratus-out-" + Guid.NewGuid().ToString("N")[..8]);

    public int OutsideOctet { get; } = Random.Shared.Next(10, 250);
    public string OutsideAddress => $"172.31.{OutsideOctet}.1";
    public string ExternalCidr => $"172.31.{OutsideOctet}.0/24";

    public string ImagePath { get; private set; } = "";

    /// <summary>Each network's dnsmasq log (dhcp_agent.ini's dnsmasq_base_log_dir), for a failing test to show.</summary>
    public string DnsmasqLogs => Path.Combine(_root.FullName, "dnsmasq");

    protected override void Configure(TestNode node)
    {
        ImagePath = new TestImageBuilder(TestImageBuilder.DefaultCacheDirectory()).BuildAsync(Path.Combine(_root.FullName, "test.qcow2")).GetAwaiter().GetResult().ImagePath;
        node.Configure<NovaOptions>(o => o with
        {
            ComputeDriver = "libvirt.LibvirtDriver",
            // Short: the QMP socket's path must fit in sun_path.
            InstancesPath = Directory.CreateDirectory(Path.Combine(_root.FullName, "i")).FullName,
            VifPluggingTimeout = TimeSpan.FromSeconds(60),
        });
        File.AppendAllText(Path.Combine(node.ConfigDir, "neutron", "dhcp_agent.ini"), $"dnsmasq_base_log_dir = {DnsmasqLogs}\n");
        WireOutsideAsync().GetAwaiter().GetResult();
        var linuxBridge = Path.Combine(node.ConfigDir, "neutron", LinuxBridgeOptions.File);
        File.WriteAllText(linuxBridge, PhysicalInterfaceMappings().Replace(File.ReadAllText(linuxBridge), $"physical_interface_mappings = provider:{_uplink}"));
    }

    async Task WireOutsideAsync()
    {
        await Outside.EnsureNamespaceAsync(default);
        await new HostNetwork().IpAsync(default, "link", "add", _uplink, "type", "veth", "peer", "name", "eth0", "netns", Outside.Namespace!);
        await new HostNetwork().IpAsync(default, "link", "set", _uplink, "up");
        await Outside.IpAsync(default, "link", "set", "eth0", "up");
        await Outside.IpAsync(default, "addr", "add", OutsideAddress + "/24", "dev", "eth0");
    }

    /// <summary>Whether one ping from the outside namespace gets an answer within 2 s.</summary>
    public async Task<bool> OutsidePingsAsync(string address)
    {
        try
        {
            await HostCommand.RunAsync("ip", ["netns", "exec", Outside.Namespace!, "busybox", "ping", "-c", "1", "-W", "2", address]);
            return true;
        }
        catch (HostCommandException)
        {
            return false;
        }
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await DeleteWhatTestsLeftAsync();
        }
        finally
        {
            try
            {
                await base.DisposeAsync();
                LeftoverGuests.Kill(_root.FullName);
                _root.Delete(recursive: true);
            }
            finally
            {
                // The veth pair goes with its end in the namespace.
                await Outside.DeleteNamespaceAsync(default);
            }
        }
    }

    /// <summary>
    /// What a failed test left in the region (its servers, then everything of the network service) deleted through
    /// the APIs while the agents still run, so that they take its bridges, namespaces and processes off the host.
    /// </summary>
    async Task DeleteWhatTestsLeftAsync()
    {
        if (ComputeAdmin is null) return;
        var servers = (await ComputeAdmin.GetFromJsonAsync<JsonObject>("servers?all_tenants=1"))!["servers"]!.AsArray().Select(x => (string)x!["id"]!).ToList();
        foreach (var id in servers) await ComputeAdmin.DeleteAsync($"servers/{id}");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (servers.Count > 0 && (await ComputeAdmin.GetFromJsonAsync<JsonObject>("servers?all_tenants=1"))!["servers"]!.AsArray().Count > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(500);
        using var network = NetworkClient(Identity.AdminToken);
        await NeutronCalls.DeleteEverythingAsync(network);
    }

    [GeneratedRegex(@"physical_interface_mappings\s*=.*")]
    private static partial Regex PhysicalInterfaceMappings();
}

/// <summary>Servers on a network, end to end with real guests: DHCP leases, the metadata service, guest to guest traffic, and nothing left behind.</summary>
public sealed class GuestNetworkTests(QemuNetworkedRegion region) : IClassFixture<QemuNetworkedRegion>
{
    static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(180);

    async Task<JsonObject> WaitForAsync(HttpClient compute, string id, Func<JsonObject, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + BootTimeout;
        while (true)
        {
            var server = (await compute.GetFromJsonAsync<JsonObject>($"servers/{id}"))!["server"]!.AsObject();
            if (done(server)) return server;
            Assert.True(DateTime.UtcNow < deadline, $"server {id}: {what} did not happen: {server.ToJsonString()}");
            await Task.Delay(500);
        }
    }

    static async Task<string> ConsoleAsync(HttpClient compute, string id)
    {
        var output = await compute.PostJsonAsync($"servers/{id}/action", new JsonObject { ["os-getConsoleOutput"] = new JsonObject() }, 200);
        return (string?)output["output"] ?? "";
    }

    /// <summary>The guest's console once it has printed <paramref name="line"/> (it boots, leases, reads metadata, runs its user data).</summary>
    async Task<string> WaitForConsoleAsync(HttpClient compute, string id, string line)
    {
        var deadline = DateTime.UtcNow + BootTimeout;
        var console = "";
        while (DateTime.UtcNow < deadline)
        {
            console = await ConsoleAsync(compute, id);
            if (console.Contains(line, StringComparison.Ordinal)) return console;
            await Task.Delay(1000);
        }
        Assert.Fail($"server {id} never printed \"{line}\"; console:\n{console[^Math.Min(console.Length, 4000)..]}");
        return console;
    }

    void Has(string console, string line) =>
        Assert.True(console.Contains(line, StringComparison.Ordinal),
            $"the console has no \"{line}\":\n{console[^Math.Min(console.Length, 4000)..]}\ndnsmasq:\n{DnsmasqLog()}");

    string DnsmasqLog() => Directory.Exists(region.DnsmasqLogs)
        ? string.Join("\n", Directory.EnumerateFiles(region.DnsmasqLogs, "*", SearchOption.AllDirectories).Select(f => File.ReadAllText(f)[^Math.Min((int)new FileInfo(f).Length, 6000)..]))
        : "(no log)";

    static async Task<JsonObject> PortAsync(HttpClient network, string networkId, string ip, string subnetId, string? group = null)
    {
        var port = new JsonObject { ["network_id"] = networkId, ["fixed_ips"] = new JsonArray(new JsonObject { ["subnet_id"] = subnetId, ["ip_address"] = ip }) };
        if (group is not null) port["security_groups"] = new JsonArray(group);
        return (await network.PostJsonAsync("v2.0/ports", new JsonObject { ["port"] = port }, 201))["port"]!.AsObject();
    }

    /// <summary>The test image uploaded as the user's, and a flavor it boots with.</summary>
    async Task<(string ImageId, string Flavor)> ImageAndFlavorAsync(HttpClient image)
    {
        var imageId = (string)(await image.CreateImageAsync(new JsonObject { ["name"] = "stratus-test", ["disk_format"] = "qcow2", ["container_format"] = "bare" }))["id"]!;
        (await image.UploadAsync(imageId, await File.ReadAllBytesAsync(region.ImagePath))).EnsureSuccessStatusCode();
        var flavor = "g-" + Guid.NewGuid().ToString("N")[..6];
        await region.ComputeAdmin.PostJsonAsync("flavors", new JsonObject { ["flavor"] = new JsonObject { ["name"] = flavor, ["id"] = flavor, ["ram"] = 128, ["vcpus"] = 1, ["disk"] = 1 } }, 200);
        return (imageId, flavor);
    }

    /// <summary>A server on <paramref name="port"/> with a user data script; its id once it is ACTIVE.</summary>
    async Task<string> BootAsync(HttpClient compute, (string ImageId, string Flavor) image, string name, JsonObject port, string userData)
    {
        var id = await CreateServerAsync(compute, image, name, port, userData);
        await ActiveAsync(compute, id);
        return id;
    }

    async Task ActiveAsync(HttpClient compute, string id) =>
        Assert.Equal("ACTIVE", (string?)(await WaitForAsync(compute, id, x => (string?)x["status"] is "ACTIVE" or "ERROR", "ACTIVE"))["status"]);

    static async Task<string> CreateServerAsync(HttpClient compute, (string ImageId, string Flavor) image, string name, JsonObject port, string userData)
    {
        var created = await compute.PostJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject
            {
                ["name"] = name,
                ["imageRef"] = image.ImageId,
                ["flavorRef"] = image.Flavor,
                ["networks"] = new JsonArray(new JsonObject { ["port"] = (string)port["id"]! }),
                ["user_data"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(userData)),
            },
        }, 202);
        return (string)created["server"]!["id"]!;
    }

    static async Task DeleteServersAsync(HttpClient compute, params string[] ids)
    {
        foreach (var id in ids) Assert.Equal(HttpStatusCode.NoContent, (await compute.DeleteAsync($"servers/{id}")).StatusCode);
        foreach (var id in ids)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await compute.GetAsync($"servers/{id}")).StatusCode != HttpStatusCode.NotFound)
            {
                Assert.True(DateTime.UtcNow < deadline, $"server {id} was not deleted");
                await Task.Delay(500);
            }
        }
    }

    /// <summary>The networks' ports' taps (the DHCP port's and the router's too), read before the networks go.</summary>
    static async Task<List<string>> TapsOfAsync(HttpClient admin, params string[] networkIds)
    {
        var taps = new List<string>();
        foreach (var id in networkIds)
            taps.AddRange((await admin.GetFromJsonAsync<JsonObject>($"v2.0/ports?network_id={id}"))!["ports"]!.AsArray().Select(p => NetworkBridges.TapOf((string)p!["id"]!)));
        return taps;
    }

    /// <summary>
    /// Waits until the host has nothing of these networks and routers: their bridges, VXLAN links and ports' taps,
    /// their qdhcp and qrouter namespaces, dnsmasq and haproxy processes, the firewall's chains of their taps.
    /// </summary>
    async Task NothingLeftAsync(IReadOnlyList<string> networkIds, IReadOnlyList<string> routerIds, IReadOnlyList<string> taps, IReadOnlyList<string> vxlans)
    {
        var firewall = new PortFirewall(new HostNetwork(), region.Node.Options<NetworkOptions>().Host);
        var gone = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var links = (await new HostNetwork().LinksAsync(default)).Select(l => l.Name).ToHashSet();
            var chains = (await firewall.ListAsync(default)).Chains;
            var leftovers = networkIds.Select(NetworkBridges.BridgeOf).Concat(taps).Concat(vxlans).Where(links.Contains)
                .Concat(networkIds.Select(DhcpServers.NamespaceOf).Concat(routerIds.Select(RouterNamespaces.NamespaceOf)).Where(ns => File.Exists(Path.Combine("/run/netns", ns))))
                .Concat(networkIds.Concat(routerIds).SelectMany(Processes))
                .Concat(chains.Where(c => taps.Any(t => c.Length == 12 && c[1..] == t[3..])).Select(c => "nft chain " + c))
                .ToList();
            if (leftovers.Count == 0) return;
            Assert.True(DateTime.UtcNow < gone, "left on the host: " + string.Join(", ", leftovers));
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task Two_guests_lease_their_ports_addresses_read_their_metadata_and_ping_each_other_and_leave_nothing_behind()
    {
        var (compute, image, _) = await region.NewComputeUserAsync("2.37");
        var token = compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        var network = region.NetworkClient(token);
        var octet = Random.Shared.Next(10, 250);
        var (networkId, subnetId) = await TenantNetworkAsync(network, $"10.{octet}.7");
        var portA = await PortAsync(network, networkId, $"10.{octet}.7.11", subnetId);
        var portB = await PortAsync(network, networkId, $"10.{octet}.7.12", subnetId);

        var testImage = await ImageAndFlavorAsync(image);
        var a = await BootAsync(compute, testImage, "guest-a", portA, "#!/bin/sh\necho guest-a-script-ran\n");
        var consoleA = await WaitForConsoleAsync(compute, a, TestImageBuilder.ReadyMarker);
        // Its port's address by DHCP from the network's dnsmasq, its identity from the metadata service through the proxy.
        Has(consoleA, $"stratus: eth0 inet 10.{octet}.7.11/24");
        Has(consoleA, "stratus: metadata service: found");
        Has(consoleA, $"stratus: instance-id: {a}");
        Has(consoleA, "stratus: hostname: guest-a");
        Has(consoleA, "guest-a-script-ran");

        var b = await BootAsync(compute, testImage, "guest-b", portB,
            $"#!/bin/sh\nif ping -c 3 -W 2 10.{octet}.7.11 >/dev/null; then echo PING-A-OK; else echo PING-A-FAILED; fi\n");
        var consoleB = await WaitForConsoleAsync(compute, b, TestImageBuilder.ReadyMarker);
        Has(consoleB, $"stratus: eth0 inet 10.{octet}.7.12/24");
        Has(consoleB, "PING-A-OK");

        var bridge = NetworkBridges.BridgeOf(networkId);
        var taps = new[] { NetworkBridges.TapOf((string)portA["id"]!), NetworkBridges.TapOf((string)portB["id"]!) };
        var links = await new HostNetwork().LinksAsync(default);
        Assert.All(taps, t => Assert.Equal(bridge, links.Single(l => l.Name == t).Master));

        await DeleteServersAsync(compute, a, b);
        var admin = region.NetworkClient(region.Identity.AdminToken);
        var allTaps = await TapsOfAsync(admin, networkId);
        var vxlans = await VxlansOfAsync(admin, networkId);
        foreach (var port in new[] { portA, portB }) await network.DeleteAsync($"v2.0/ports/{(string)port["id"]!}");
        Assert.Equal(HttpStatusCode.NoContent, (await network.DeleteAsync($"v2.0/networks/{networkId}")).StatusCode);

        // The agents' next passes take away what the network had on the host.
        await NothingLeftAsync([networkId], [], allTaps, vxlans);
    }

    /// <summary>The reports of a guest's user data loop, <c>TAG N ok|fail</c>, in order.</summary>
    static List<(int N, bool Ok)> Reports(string console, string tag) =>
        [.. Regex.Matches(console, $@"\b{tag} (\d+) (ok|fail)\b").Select(m => (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value == "ok"))];

    /// <summary>The number of the first report <c>TAG N ok|fail</c> after <paramref name="after"/> with the wanted outcome.</summary>
    async Task<int> ReportAsync(HttpClient compute, string id, string tag, bool ok, int after = 0)
    {
        var deadline = DateTime.UtcNow + BootTimeout;
        var console = "";
        while (DateTime.UtcNow < deadline)
        {
            console = await ConsoleAsync(compute, id);
            var hit = Reports(console, tag).FirstOrDefault(r => r.N > after && r.Ok == ok);
            if (hit.N > 0) return hit.N;
            await Task.Delay(1000);
        }
        Assert.Fail($"server {id} never reported \"{tag} N {(ok ? "ok" : "fail")}\" after {after}; console:\n{console[^Math.Min(console.Length, 4000)..]}");
        return 0;
    }

    static int LastReport(string console, string tag) => Reports(console, tag).Select(r => r.N).DefaultIfEmpty(0).Max();

    /// <summary>The last sequence number a running <c>ping ADDRESS</c> got a reply for, or -1.</summary>
    static int FlowSeq(string console, string address) =>
        Regex.Matches(console, $@"bytes from {Regex.Escape(address)}: seq=(\d+)").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).Max();

    /// <summary>A user data script that reports, every second, whether one ping of each target gets an answer: <c>TAG N ok|fail</c>.</summary>
    static string PingReports(params (string Tag, string Address)[] targets) =>
        "(i=0; while true; do i=$((i+1))\n"
        + string.Concat(targets.Select(t => $"  if ping -c 1 -W 1 {t.Address} >/dev/null 2>&1; then echo \"{t.Tag} $i ok\"; else echo \"{t.Tag} $i fail\"; fi\n"))
        + "  sleep 1; done) &\n";

    /// <summary>
    /// The pool the DHCP port's address comes from (at random among the free ones, as Neutron's IPAM): the
    /// guests' fixed addresses (below .100) are outside it, so that the DHCP agent's port never takes one first.
    /// </summary>
    static JsonArray Pool(string prefix) => new(new JsonObject { ["start"] = prefix + ".100", ["end"] = prefix + ".200" });

    /// <summary>A project's network (VXLAN, on a VNI of the node's own window) with one /24 subnet.</summary>
    static async Task<(string NetworkId, string SubnetId)> TenantNetworkAsync(HttpClient network, string prefix)
    {
        var networkId = await IdOf(network.PostJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = "guests" } }, 201), "network");
        var subnetId = await IdOf(network.PostJsonAsync("v2.0/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject { ["network_id"] = networkId, ["ip_version"] = 4, ["cidr"] = prefix + ".0/24", ["allocation_pools"] = Pool(prefix) },
        }, 201), "subnet");
        return (networkId, subnetId);
    }

    /// <summary>The VXLAN links of the networks (their segments only the admin sees).</summary>
    static async Task<List<string>> VxlansOfAsync(HttpClient admin, params string[] networkIds)
    {
        var links = new List<string>();
        foreach (var id in networkIds)
            if ((await admin.GetFromJsonAsync<JsonObject>($"v2.0/networks/{id}"))!["network"]! is var n && (string?)n["provider:network_type"] == "vxlan")
                links.Add(NetworkBridges.VxlanOf((int)n["provider:segmentation_id"]!));
        return links;
    }

    static async Task<string> IdOf(Task<JsonObject> created, string resource) => (string)(await created)[resource]!["id"]!;

    [Fact]
    public async Task Guests_on_two_subnets_meet_through_a_router_as_their_groups_allow_reach_the_outside_by_SNAT_and_from_it_by_a_floating_IP_and_leave_nothing_behind()
    {
        var (compute, image, _) = await region.NewComputeUserAsync("2.37");
        var network = region.NetworkClient(compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single());
        var admin = region.NetworkClient(region.Identity.AdminToken);
        var octet = Random.Shared.Next(10, 250);
        var (net1, sub1) = await TenantNetworkAsync(network, $"10.{octet}.1");
        var (net2, sub2) = await TenantNetworkAsync(network, $"10.{octet}.2");
        var (addressA, addressB) = ($"10.{octet}.1.11", $"10.{octet}.2.12");
        var external = await IdOf(admin.PostJsonAsync("v2.0/networks", new JsonObject
        {
            ["network"] = new JsonObject { ["name"] = "outside", ["router:external"] = true, ["provider:network_type"] = "flat", ["provider:physical_network"] = "provider" },
        }, 201), "network");
        await admin.PostJsonAsync("v2.0/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject { ["network_id"] = external, ["ip_version"] = 4, ["cidr"] = region.ExternalCidr, ["gateway_ip"] = region.OutsideAddress, ["enable_dhcp"] = false },
        }, 201);

        // A's group lets nothing in (a new group's rules are egress only); B's lets ICMP in.
        async Task<string> GroupAsync(string name) =>
            await IdOf(network.PostJsonAsync("v2.0/security-groups", new JsonObject { ["security_group"] = new JsonObject { ["name"] = name } }, 201), "security_group");
        Task<string> IcmpInAsync(string group) => IdOf(network.PostJsonAsync("v2.0/security-group-rules", new JsonObject
        {
            ["security_group_rule"] = new JsonObject { ["security_group_id"] = group, ["direction"] = "ingress", ["ethertype"] = "IPv4", ["protocol"] = "icmp" },
        }, 201), "security_group_rule");
        var (closed, open) = (await GroupAsync("closed"), await GroupAsync("open"));
        await IcmpInAsync(open);
        var portA = await PortAsync(network, net1, addressA, sub1, closed);
        var portB = await PortAsync(network, net2, addressB, sub2, open);

        // The router first, so that the guests find the metadata service through it when they boot.
        var router = await IdOf(network.PostJsonAsync("v2.0/routers", new JsonObject
        {
            ["router"] = new JsonObject { ["name"] = "r", ["external_gateway_info"] = new JsonObject { ["network_id"] = external } },
        }, 201), "router");
        foreach (var subnet in new[] { sub1, sub2 })
            Assert.Equal(HttpStatusCode.OK, (await network.PutJsonAsync($"v2.0/routers/{router}/add_router_interface", new JsonObject { ["subnet_id"] = subnet })).StatusCode);
        var deadline = DateTime.UtcNow + BootTimeout;
        while (true)
        {
            var ports = (await admin.GetFromJsonAsync<JsonObject>($"v2.0/ports?device_id={router}"))!["ports"]!.AsArray();
            if (ports.Count == 3 && ports.All(p => (string?)p!["status"] == "ACTIVE") && Processes(router).Any()) break;
            Assert.True(DateTime.UtcNow < deadline, "the router's three ports ACTIVE and its metadata proxy running: " + ports.ToJsonString());
            await Task.Delay(500);
        }

        // A reports whether it reaches B; B whether it reaches A and the outside host, and runs one ping of A all along
        // (one ICMP id: one conntrack entry, which its echoes keep established).
        var testImage = await ImageAndFlavorAsync(image);
        var a = await CreateServerAsync(compute, testImage, "guest-a", portA, "#!/bin/sh\n" + PingReports(("A2B", addressB)));
        var b = await CreateServerAsync(compute, testImage, "guest-b", portB,
            $"#!/bin/sh\nping -i 1 {addressA} &\n" + PingReports(("B2A", addressA), ("B2OUT", region.OutsideAddress)));
        foreach (var id in new[] { a, b }) await ActiveAsync(compute, id);

        // Across the router: A reaches B, whose group lets ICMP in. B does not reach A, whose group does not, however long it tries.
        await ReportAsync(compute, a, "A2B", ok: true);
        var consoleA = await ConsoleAsync(compute, a);
        Has(consoleA, $"stratus: eth0 inet {addressA}/24");
        Has(consoleA, "stratus: metadata service: found");
        var tried = LastReport(await ConsoleAsync(compute, b), "B2A");
        await ReportAsync(compute, b, "B2A", ok: false, after: tried + 3);
        var consoleB = await ConsoleAsync(compute, b);
        if (Reports(consoleB, "B2A").Any(r => r.Ok) || FlowSeq(consoleB, addressA) != -1)
            // Seen once in CI (a single B2A ok between fails): what the host's firewall held then says why.
            Assert.Fail($"B reached A, whose group lets no ICMP in. B's console:\n{consoleB}\nThe host's rules now:\n"
                + await HostCommand.RunAsync("nft", ["list", "ruleset", "bridge"]));
        // B reaches the outside host, which has no route to B's subnet: its pings leave by the router's SNAT.
        await ReportAsync(compute, b, "B2OUT", ok: true);

        // An ICMP rule in A's group: B's pings get through, the running one too.
        var rule = await IcmpInAsync(closed);
        await ReportAsync(compute, b, "B2A", ok: true, after: LastReport(await ConsoleAsync(compute, b), "B2A"));
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (FlowSeq(await ConsoleAsync(compute, b), addressA) < 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the running ping of A got no reply once the rule let ICMP in");
            await Task.Delay(1000);
        }

        // A floating IP for A: the outside host reaches A through it.
        var fip = (await network.PostJsonAsync("v2.0/floatingips", new JsonObject
        {
            ["floatingip"] = new JsonObject { ["floating_network_id"] = external, ["port_id"] = (string)portA["id"]! },
        }, 201))["floatingip"]!;
        var (fipId, fipAddress) = ((string)fip["id"]!, (string)fip["floating_ip_address"]!);
        deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await region.OutsidePingsAsync(fipAddress))
        {
            var status = (string?)(await network.GetFromJsonAsync<JsonObject>($"v2.0/floatingips/{fipId}"))!["floatingip"]!["status"];
            Assert.True(DateTime.UtcNow < deadline, $"the outside host does not reach floating IP {fipAddress} (status {status})");
            await Task.Delay(1000);
        }

        // The rule removed: new pings of A fail, from B and from outside, and the running one's flow is cut with it.
        Assert.Equal(HttpStatusCode.NoContent, (await network.DeleteAsync($"v2.0/security-group-rules/{rule}")).StatusCode);
        await ReportAsync(compute, b, "B2A", ok: false, after: LastReport(await ConsoleAsync(compute, b), "B2A"));
        Assert.False(await region.OutsidePingsAsync(fipAddress));
        var (seq, since) = (FlowSeq(await ConsoleAsync(compute, b), addressA), DateTime.UtcNow);
        deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow - since < TimeSpan.FromSeconds(6))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the running ping of A still gets replies (seq {seq}) after the rule that let it in went");
            await Task.Delay(1000);
            var now = FlowSeq(await ConsoleAsync(compute, b), addressA);
            if (now != seq) (seq, since) = (now, DateTime.UtcNow);
        }

        // All of it deleted: nothing of the networks, the router or the guests' ports is left on the host.
        await DeleteServersAsync(compute, a, b);
        var taps = await TapsOfAsync(admin, net1, net2, external);
        var vxlans = await VxlansOfAsync(admin, net1, net2);
        Assert.Equal(2, vxlans.Count);
        Assert.Equal(HttpStatusCode.NoContent, (await network.DeleteAsync($"v2.0/floatingips/{fipId}")).StatusCode);
        foreach (var subnet in new[] { sub1, sub2 })
            Assert.Equal(HttpStatusCode.OK, (await network.PutJsonAsync($"v2.0/routers/{router}/remove_router_interface", new JsonObject { ["subnet_id"] = subnet })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await network.DeleteAsync($"v2.0/routers/{router}")).StatusCode);
        foreach (var port in new[] { portA, portB }) Assert.Equal(HttpStatusCode.NoContent, (await network.DeleteAsync($"v2.0/ports/{(string)port["id"]!}")).StatusCode);
        foreach (var id in new[] { net1, net2, external }) Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"v2.0/networks/{id}")).StatusCode);
        foreach (var group in new[] { closed, open }) Assert.Equal(HttpStatusCode.NoContent, (await network.DeleteAsync($"v2.0/security-groups/{group}")).StatusCode);
        await NothingLeftAsync([net1, net2, external], [router], taps, vxlans);
    }

    /// <summary>dnsmasq or haproxy processes whose command line names the network.</summary>
    static IEnumerable<string> Processes(string networkId) =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(d => d!.All(char.IsAsciiDigit)).Select(pid =>
        {
            try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
            catch (IOException) { return ""; }
        }).Where(c => c.Contains(networkId, StringComparison.Ordinal)).ToList();
}
