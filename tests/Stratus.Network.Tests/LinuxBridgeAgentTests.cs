using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Core.Processes;
using Stratus.Network.DataPlane;

namespace Stratus.Network.Tests;

/// <summary>
/// The Linux bridge agent's loop on this machine (as root, as the agent runs): a guest's tap device for a
/// port bound here is wired into its network's bridge with the network's vxlan interface and its port goes
/// ACTIVE; when the tap goes, the port goes DOWN and the bridge the agent made is removed.
/// </summary>
public sealed class LinuxBridgeAgentTests(NetworkServer net) : IClassFixture<NetworkServer>
{
    [Fact]
    public async Task A_bound_ports_tap_is_wired_into_its_bridge_and_its_port_goes_active_then_down_when_the_tap_goes()
    {
        var admin = net.Admin();
        var host = net.Node.Options<NetworkOptions>().Host;
        var n = await admin.PostJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = "lb-" + Guid.NewGuid().ToString("N")[..6] } }, 201);
        var networkId = (string)n["network"]!["id"]!;
        var vni = (int)n["network"]!["provider:segmentation_id"]!;
        var p = await admin.PostJsonAsync("v2.0/ports", new JsonObject { ["port"] = new JsonObject { ["network_id"] = networkId, ["binding:host_id"] = host } }, 201);
        var portId = (string)p["port"]!["id"]!;
        Assert.Equal("DOWN", (string?)p["port"]!["status"]);
        var tap = NetworkBridges.TapOf(portId);
        var bridge = NetworkBridges.BridgeOf(networkId);
        var host0 = new HostNetwork();
        try
        {
            await HostCommand.RunAsync("ip", ["tuntap", "add", "dev", tap, "mode", "tap"]);
            await Poll.UntilAsync(async () => (string?)(await admin.GetFromJsonAsync<JsonObject>($"v2.0/ports/{portId}"))!["port"]!["status"], s => s == "ACTIVE", "the port going ACTIVE");
            var links = await host0.LinksAsync(default);
            Assert.Equal(bridge, links.Single(l => l.Name == tap).Master);
            Assert.Contains(links, l => l.Master == bridge && l.Name == NetworkBridges.VxlanOf(vni));
            Assert.Equal(1450, links.Single(l => l.Name == bridge).Mtu);

            await HostCommand.RunAsync("ip", ["link", "delete", tap]);
            await Poll.UntilAsync(async () => (string?)(await admin.GetFromJsonAsync<JsonObject>($"v2.0/ports/{portId}"))!["port"]!["status"], s => s == "DOWN", "the port going DOWN");
            await Poll.UntilAsync(async () => await host0.LinksAsync(default), l => !l.Any(x => x.Name == bridge), "the bridge going away");
        }
        finally
        {
            foreach (var device in new[] { tap, bridge })
                if ((await host0.LinksAsync(default)).Any(l => l.Name == device)) await HostCommand.RunAsync("ip", ["link", "delete", device]);
        }
    }

    [Fact]
    public async Task A_tap_on_a_physical_network_this_host_does_not_map_stays_down_and_does_not_keep_another_tap_from_being_wired()
    {
        var admin = net.Admin();
        var host = net.Node.Options<NetworkOptions>().Host;
        async Task<string> PortAsync(JsonObject network)
        {
            network["name"] = "lb-" + Guid.NewGuid().ToString("N")[..6];
            var n = await admin.PostJsonAsync("v2.0/networks", new JsonObject { ["network"] = network }, 201);
            var p = await admin.PostJsonAsync("v2.0/ports", new JsonObject { ["port"] = new JsonObject { ["network_id"] = (string)n["network"]!["id"]!, ["binding:host_id"] = host } }, 201);
            return (string)p["port"]!["id"]!;
        }
        // This node maps no physical network: a flat one's tap (a router's gateway on it, say) cannot be wired here.
        var unmapped = await PortAsync(new JsonObject { ["provider:network_type"] = "flat", ["provider:physical_network"] = "provider" });
        var wired = await PortAsync(new JsonObject());
        string[] taps = [NetworkBridges.TapOf(unmapped), NetworkBridges.TapOf(wired)];
        try
        {
            foreach (var tap in taps) await HostCommand.RunAsync("ip", ["tuntap", "add", "dev", tap, "mode", "tap"]);
            await Poll.UntilAsync(async () => (string?)(await admin.GetFromJsonAsync<JsonObject>($"v2.0/ports/{wired}"))!["port"]!["status"], s => s == "ACTIVE", "the wired port going ACTIVE");
            Assert.Equal("DOWN", (string?)(await admin.GetFromJsonAsync<JsonObject>($"v2.0/ports/{unmapped}"))!["port"]!["status"]);
            Assert.Null((await new HostNetwork().LinksAsync(default)).Single(l => l.Name == taps[0]).Master);
        }
        finally
        {
            foreach (var tap in taps)
                if ((await new HostNetwork().LinksAsync(default)).Any(l => l.Name == tap)) await HostCommand.RunAsync("ip", ["link", "delete", tap]);
        }
    }

    [Fact]
    public async Task A_subnet_with_dhcp_gets_a_dnsmasq_in_its_network_namespace_with_an_active_dhcp_port_and_both_go_with_the_network()
    {
        var admin = net.Admin();
        var n = await admin.PostJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = "dhcp-" + Guid.NewGuid().ToString("N")[..6] } }, 201);
        var networkId = (string)n["network"]!["id"]!;
        await admin.PostJsonAsync("v2.0/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject { ["network_id"] = networkId, ["ip_version"] = 4, ["cidr"] = "10.91.0.0/24" },
        }, 201);
        var guest = await admin.PostJsonAsync("v2.0/ports", new JsonObject { ["port"] = new JsonObject { ["network_id"] = networkId } }, 201);
        var guestIp = (string)guest["port"]!["fixed_ips"]![0]!["ip_address"]!;
        var dhcp = await Poll.UntilAsync(async () => (await admin.GetFromJsonAsync<JsonObject>($"v2.0/ports?network_id={networkId}&device_owner=network:dhcp"))!["ports"]!.AsArray(),
            p => p.Count == 1 && (string?)p[0]!["status"] == "ACTIVE", "the DHCP port going ACTIVE");
        Assert.StartsWith("10.91.0.", (string?)dhcp[0]!["fixed_ips"]![0]!["ip_address"]);
        var ns = DhcpServers.NamespaceOf(networkId);
        Assert.True(File.Exists(Path.Combine("/run/netns", ns)), $"namespace {ns} is missing");
        var hosts = Path.Combine(net.Node.Options<NetworkOptions>().StatePath, "dhcp", networkId, "host");
        await Poll.UntilAsync(() => Task.FromResult(File.Exists(hosts) ? File.ReadAllText(hosts) : ""), h => h.Contains(guestIp), "the guest's port in dnsmasq's hosts file");

        await admin.DeleteAsync($"v2.0/ports/{(string)guest["port"]!["id"]!}");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await admin.DeleteAsync($"v2.0/networks/{networkId}")).StatusCode);
        await Poll.UntilAsync(() => Task.FromResult(File.Exists(Path.Combine("/run/netns", ns))), exists => !exists, "the network's namespace going away");
        await Poll.UntilAsync(async () => await new HostNetwork().LinksAsync(default), l => !l.Any(x => x.Name == NetworkBridges.BridgeOf(networkId)), "the network's bridge going away");
    }
}

/// <summary>A node whose Linux bridge agent polls once an hour: only the kernel's link events can start its passes.</summary>
public sealed class HourlyPollingNetworkServer : NetworkServer
{
    protected override IReadOnlyDictionary<string, string>? PostConfig => new Dictionary<string, string>
    {
        ["neutron/" + LinuxBridgeOptions.File] = "[agent]\npolling_interval = 3600\n",
    };
}

public sealed class LinkEventTests(HourlyPollingNetworkServer net) : IClassFixture<HourlyPollingNetworkServer>
{
    [Fact]
    public async Task A_new_tap_is_wired_and_a_gone_one_reported_at_once_not_at_the_next_polling_interval()
    {
        var admin = net.Admin();
        var host = net.Node.Options<NetworkOptions>().Host;
        Assert.Equal(TimeSpan.FromHours(1), net.Node.Options<NetworkOptions>().LinuxBridge.PollingInterval);
        var n = await admin.PostJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = "ev-" + Guid.NewGuid().ToString("N")[..6] } }, 201);
        var networkId = (string)n["network"]!["id"]!;
        var p = await admin.PostJsonAsync("v2.0/ports", new JsonObject { ["port"] = new JsonObject { ["network_id"] = networkId, ["binding:host_id"] = host } }, 201);
        var portId = (string)p["port"]!["id"]!;
        var tap = NetworkBridges.TapOf(portId);
        // The agent's first pass (at its start) is over before the tap exists.
        await Poll.UntilAsync(async () => (string?)(await admin.GetFromJsonAsync<JsonObject>("v2.0/agents?agent_type=Linux%20bridge%20agent"))!["agents"]![0]?["alive"]?.ToString(),
            a => a == "true", "the Linux bridge agent alive");
        try
        {
            await HostCommand.RunAsync("ip", ["tuntap", "add", "dev", tap, "mode", "tap"]);
            await Poll.UntilAsync(async () => (string?)(await admin.GetFromJsonAsync<JsonObject>($"v2.0/ports/{portId}"))!["port"]!["status"], s => s == "ACTIVE", "the port going ACTIVE");
            await HostCommand.RunAsync("ip", ["link", "delete", tap]);
            await Poll.UntilAsync(async () => (string?)(await admin.GetFromJsonAsync<JsonObject>($"v2.0/ports/{portId}"))!["port"]!["status"], s => s == "DOWN", "the port going DOWN");
        }
        finally
        {
            if ((await new HostNetwork().LinksAsync(default)).Any(l => l.Name == tap)) await HostCommand.RunAsync("ip", ["link", "delete", tap]);
            await admin.DeleteAsync($"v2.0/ports/{portId}");
            await admin.DeleteAsync($"v2.0/networks/{networkId}");
        }
    }
}
