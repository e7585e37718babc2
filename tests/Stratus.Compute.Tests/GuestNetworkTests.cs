using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Compute.TestImage;
using Stratus.Compute.Tests.Virt.Qemu;
using Stratus.Network.DataPlane;

namespace Stratus.Compute.Tests;

/// <summary>
/// A region whose compute host boots real guests (the test image under QEMU) on networks its own agents
/// serve: the Linux bridge agent wires the taps, the DHCP agent's dnsmasq leases the ports' addresses, the
/// metadata agent and its haproxy answer 169.254.169.254, all on this machine's kernel.
/// </summary>
public sealed class QemuNetworkedRegion : NetworkedRegionServer
{
    readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("stratus-guests-");

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
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        LeftoverGuests.Kill(_root.FullName);
        _root.Delete(recursive: true);
    }
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

    async Task<JsonObject> PortAsync(HttpClient network, string networkId, string ip, string subnetId) =>
        (await network.PostJsonAsync("v2.0/ports", new JsonObject
        {
            ["port"] = new JsonObject { ["network_id"] = networkId, ["fixed_ips"] = new JsonArray(new JsonObject { ["subnet_id"] = subnetId, ["ip_address"] = ip }) },
        }, 201))["port"]!.AsObject();

    [Fact]
    public async Task Two_guests_lease_their_ports_addresses_read_their_metadata_and_ping_each_other_and_leave_nothing_behind()
    {
        var (compute, image, _) = await region.NewComputeUserAsync("2.37");
        var token = compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        var network = region.NetworkClient(token);
        var octet = Random.Shared.Next(10, 250);
        var n = await network.PostJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = "guests" } }, 201);
        var networkId = (string)n["network"]!["id"]!;
        var s = await network.PostJsonAsync("v2.0/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject { ["network_id"] = networkId, ["ip_version"] = 4, ["cidr"] = $"10.{octet}.7.0/24" },
        }, 201);
        var subnetId = (string)s["subnet"]!["id"]!;
        var portA = await PortAsync(network, networkId, $"10.{octet}.7.11", subnetId);
        var portB = await PortAsync(network, networkId, $"10.{octet}.7.12", subnetId);

        var imageId = (string)(await image.CreateImageAsync(new JsonObject { ["name"] = "stratus-test", ["disk_format"] = "qcow2", ["container_format"] = "bare" }))["id"]!;
        (await image.UploadAsync(imageId, await File.ReadAllBytesAsync(region.ImagePath))).EnsureSuccessStatusCode();
        var flavor = "g-" + Guid.NewGuid().ToString("N")[..6];
        await region.ComputeAdmin.PostJsonAsync("flavors", new JsonObject { ["flavor"] = new JsonObject { ["name"] = flavor, ["id"] = flavor, ["ram"] = 128, ["vcpus"] = 1, ["disk"] = 1 } }, 200);

        async Task<string> BootAsync(string name, JsonObject port, string userData)
        {
            var created = await compute.PostJsonAsync("servers", new JsonObject
            {
                ["server"] = new JsonObject
                {
                    ["name"] = name, ["imageRef"] = imageId, ["flavorRef"] = flavor,
                    ["networks"] = new JsonArray(new JsonObject { ["port"] = (string)port["id"]! }),
                    ["user_data"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(userData)),
                },
            }, 202);
            var id = (string)created["server"]!["id"]!;
            var server = await WaitForAsync(compute, id, x => (string?)x["status"] is "ACTIVE" or "ERROR", "ACTIVE");
            Assert.Equal("ACTIVE", (string?)server["status"]);
            return id;
        }

        var a = await BootAsync("guest-a", portA, "#!/bin/sh\necho guest-a-script-ran\n");
        var consoleA = await WaitForConsoleAsync(compute, a, TestImageBuilder.ReadyMarker);
        // Its port's address by DHCP from the network's dnsmasq, its identity from the metadata service through the proxy.
        Has(consoleA, $"stratus: eth0 inet 10.{octet}.7.11/24");
        Has(consoleA, "stratus: metadata service: found");
        Has(consoleA, $"stratus: instance-id: {a}");
        Has(consoleA, "stratus: hostname: guest-a");
        Has(consoleA, "guest-a-script-ran");

        var b = await BootAsync("guest-b", portB,
            $"#!/bin/sh\nif ping -c 3 -W 2 10.{octet}.7.11 >/dev/null; then echo PING-A-OK; else echo PING-A-FAILED; fi\n");
        var consoleB = await WaitForConsoleAsync(compute, b, TestImageBuilder.ReadyMarker);
        Has(consoleB, $"stratus: eth0 inet 10.{octet}.7.12/24");
        Has(consoleB, "PING-A-OK");

        var bridge = NetworkBridges.BridgeOf(networkId);
        var taps = new[] { NetworkBridges.TapOf((string)portA["id"]!), NetworkBridges.TapOf((string)portB["id"]!) };
        var links = await new HostNetwork().LinksAsync(default);
        Assert.All(taps, t => Assert.Equal(bridge, links.Single(l => l.Name == t).Master));

        foreach (var id in new[] { a, b }) Assert.Equal(HttpStatusCode.NoContent, (await compute.DeleteAsync($"servers/{id}")).StatusCode);
        foreach (var id in new[] { a, b })
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await compute.GetAsync($"servers/{id}")).StatusCode != HttpStatusCode.NotFound)
            {
                Assert.True(DateTime.UtcNow < deadline, $"server {id} was not deleted");
                await Task.Delay(500);
            }
        }
        foreach (var port in new[] { portA, portB }) await network.DeleteAsync($"v2.0/ports/{(string)port["id"]!}");
        Assert.Equal(HttpStatusCode.NoContent, (await network.DeleteAsync($"v2.0/networks/{networkId}")).StatusCode);

        // The agents' next passes take away what the network had on the host.
        var gone = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            links = await new HostNetwork().LinksAsync(default);
            var leftovers = links.Where(l => l.Name == bridge || taps.Contains(l.Name)).Select(l => l.Name)
                .Concat(File.Exists(Path.Combine("/run/netns", DhcpServers.NamespaceOf(networkId))) ? [DhcpServers.NamespaceOf(networkId)] : [])
                .Concat(Processes(networkId)).ToList();
            if (leftovers.Count == 0) break;
            Assert.True(DateTime.UtcNow < gone, "left on the host: " + string.Join(", ", leftovers));
            await Task.Delay(500);
        }
    }

    /// <summary>dnsmasq or haproxy processes whose command line names the network.</summary>
    static IEnumerable<string> Processes(string networkId) =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(d => d!.All(char.IsAsciiDigit)).Select(pid =>
        {
            try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
            catch (IOException) { return ""; }
        }).Where(c => c.Contains(networkId, StringComparison.Ordinal)).ToList();
}
