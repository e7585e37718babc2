using Stratus.Network.DataPlane;

namespace Stratus.Network.Tests;

/// <summary>
/// The Linux bridge agent's bridges, made, filled, reconciled and removed for real (as root, as the agent
/// runs), inside a network namespace each test makes for its "host", so nothing of the machine's is touched.
/// </summary>
public sealed class NetworkBridgesTests : IAsyncLifetime
{
    readonly HostNetwork _host = new("stratus-test-" + Guid.NewGuid().ToString("N")[..8]);

    public Task InitializeAsync() => _host.EnsureNamespaceAsync(default);

    public Task DisposeAsync() => _host.DeleteNamespaceAsync(default);

    static string NewId() => Guid.NewGuid().ToString();

    [Fact]
    public async Task A_vxlan_network_gets_its_bridge_and_vxlan_interface_once_and_reconcile_removes_what_is_not_wanted()
    {
        var bridges = new NetworkBridges(_host, "127.0.0.1", new Dictionary<string, string>());
        var wanted = new NetworkBridges.Wiring(NewId(), "vxlan", null, 100, 1450);
        var stray = new NetworkBridges.Wiring(NewId(), "vxlan", null, 101, 1450);
        await bridges.EnsureAsync(wanted, default);
        await bridges.EnsureAsync(wanted, default); // a second pass (an agent restart) makes nothing twice
        await bridges.EnsureAsync(stray, default);
        var bridge = NetworkBridges.BridgeOf(wanted.NetworkId);
        Assert.Equal([NetworkBridges.VxlanOf(100)], await bridges.MembersAsync(bridge, default));
        var links = await _host.LinksAsync(default);
        Assert.Equal(1450, links.Single(l => l.Name == bridge).Mtu);
        Assert.Single(links, l => l.Name == bridge);
        const string tap = "tap0123456789a";
        await _host.IpAsync(default, "tuntap", "add", "dev", tap, "mode", "tap");
        await bridges.PlugAsync(tap, wanted.NetworkId, default);
        Assert.Contains(tap, await bridges.MembersAsync(bridge, default));

        await bridges.ReconcileAsync([wanted], default);
        Assert.Equal([bridge], await bridges.BridgesAsync(default));
        Assert.False(await bridges.ExistsAsync(NetworkBridges.VxlanOf(101), default));
        Assert.Contains(tap, await bridges.MembersAsync(bridge, default));

        await bridges.ReconcileAsync([], default);
        Assert.Empty(await bridges.BridgesAsync(default));
        Assert.DoesNotContain(await _host.LinksAsync(default), l => l.Kind == "vxlan");
    }

    [Fact]
    public async Task A_network_the_host_cannot_carry_is_a_clear_error_and_makes_nothing()
    {
        var bridges = new NetworkBridges(_host, null, new Dictionary<string, string>());
        var vlan = new NetworkBridges.Wiring(NewId(), "vlan", "provider", 42, 1500);
        var flat = new NetworkBridges.Wiring(NewId(), "flat", "provider", null, 1500);
        var vxlan = new NetworkBridges.Wiring(NewId(), "vxlan", null, 7, 1450);
        Assert.Contains("VLAN", (await Assert.ThrowsAsync<DataPlaneException>(() => bridges.EnsureAsync(vlan, default))).Message);
        Assert.Contains("physical_interface_mappings", (await Assert.ThrowsAsync<DataPlaneException>(() => bridges.EnsureAsync(flat, default))).Message);
        Assert.Contains("local_ip", (await Assert.ThrowsAsync<DataPlaneException>(() => bridges.EnsureAsync(vxlan, default))).Message);
        Assert.Empty(await bridges.BridgesAsync(default));
    }

    [Fact]
    public async Task A_flat_network_takes_the_mapped_interface_into_its_bridge()
    {
        // The "physical" interface is one end of a veth pair inside the test's host namespace.
        await _host.IpAsync(default, "link", "add", "ext0", "type", "veth", "peer", "name", "ext0-peer");
        var bridges = new NetworkBridges(_host, null, new Dictionary<string, string> { ["provider"] = "ext0" });
        var flat = new NetworkBridges.Wiring(NewId(), "flat", "provider", null, 1500);
        await bridges.EnsureAsync(flat, default);
        Assert.Equal(["ext0"], await bridges.MembersAsync(NetworkBridges.BridgeOf(flat.NetworkId), default));
        await bridges.ReconcileAsync([], default);
        // The interface is only released, never deleted: it is the operator's.
        Assert.True(await bridges.ExistsAsync("ext0", default));
        Assert.Empty(await bridges.BridgesAsync(default));
    }
}
