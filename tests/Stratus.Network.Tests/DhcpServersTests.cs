using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Stratus.Core.Processes;
using Stratus.Network.DataPlane;

namespace Stratus.Network.Tests;

/// <summary>
/// The DHCP agent's dnsmasq servers for real (as root, as the agent runs): a test "host" namespace with a
/// network's bridge, the server's qdhcp namespace plugged into it, and "guests" in namespaces of the test's
/// own whose DHCP client (busybox udhcpc) asks the server for its lease. Nothing leaves these namespaces.
/// </summary>
public sealed class DhcpServersTests : IAsyncLifetime
{
    readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    readonly HostNetwork _host;
    readonly HostNetwork _guest;
    readonly string _state = Path.Combine(Path.GetTempPath(), "stratus-dhcp-" + Guid.NewGuid().ToString("N")[..8]);
    readonly List<string> _otherNamespaces = [];
    readonly string _networkId = Guid.NewGuid().ToString();
    readonly int _octet = Random.Shared.Next(10, 250);
    DhcpServers? _servers;

    public DhcpServersTests()
    {
        _host = new("stratus-test-" + _suffix);
        _guest = new("stratus-guest-" + _suffix);
    }

    public async Task InitializeAsync()
    {
        await _host.EnsureNamespaceAsync(default);
        await _guest.EnsureNamespaceAsync(default);
    }

    public async Task DisposeAsync()
    {
        // The servers' namespaces first (stopping their dnsmasq), then everything the test made.
        if (_servers is not null)
            try { await _servers.ReconcileAsync([], default); }
            catch (Exception) { /* the namespaces below go anyway */ }
        foreach (var ns in _otherNamespaces.Append(DhcpServers.NamespaceOf(_networkId)))
            await new HostNetwork(ns).DeleteNamespaceAsync(default);
        await _guest.DeleteNamespaceAsync(default);
        await _host.DeleteNamespaceAsync(default);
        if (Directory.Exists(_state)) Directory.Delete(_state, recursive: true);
    }

    string Address(int last) => $"10.{_octet}.0.{last}";

    DhcpServers.Network Network(IReadOnlyList<DhcpServers.Port> ports, params string[] dns) => new(
        _networkId, 1450,
        [new DhcpServers.Subnet(SubnetId, $"10.{_octet}.0.0/24", Address(1), dns, [new DhcpServers.HostRoute("192.168.77.0/24", Address(254))])],
        new DhcpServers.Port(DhcpPortId, "fa:16:3e:00:00:02", [new DhcpServers.FixedIp(SubnetId, Address(2))]),
        ports);

    readonly string SubnetId = Guid.NewGuid().ToString();
    readonly string DhcpPortId = Guid.NewGuid().ToString();

    static DhcpServers.Port GuestPort(string mac, string ip, string subnetId) => new(Guid.NewGuid().ToString(), mac, [new DhcpServers.FixedIp(subnetId, ip)]);

    /// <summary>A guest's NIC: a veth whose host end is in the network's bridge and whose other end, with the port's MAC, is in the guest namespace.</summary>
    async Task<string> PlugGuestAsync(NetworkBridges bridges, string name, string mac)
    {
        var tap = "tapg" + name;
        await _host.IpAsync(default, "link", "add", tap, "type", "veth", "peer", "name", name, "netns", _guest.Namespace!);
        await _guest.IpAsync(default, "link", "set", name, "address", mac, "up");
        await bridges.PlugAsync(tap, _networkId, default);
        return name;
    }

    /// <summary>busybox udhcpc in the guest namespace: the variables its script is given on "bound", or the failure when it gets no lease.</summary>
    async Task<Dictionary<string, string>> LeaseAsync(string device)
    {
        var script = Path.Combine(_state, "udhcpc-" + device + ".sh");
        await File.WriteAllTextAsync(script, "#!/bin/sh\n[ \"$1\" = bound ] || exit 0\nfor v in ip subnet router dns mtu staticroutes msstaticroutes hostname domain; do eval echo \"$v=\\$$v\"; done\n");
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var output = await HostCommand.RunAsync("ip", ["netns", "exec", _guest.Namespace!, "busybox", "udhcpc", "-f", "-q", "-n", "-t", "4", "-T", "1",
            "-i", device, "-s", script, "-O", "mtu", "-O", "staticroutes", "-O", "msstaticroutes"]);
        return output.Split('\n').Where(l => l.Contains('=', StringComparison.Ordinal))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
    }

    static IEnumerable<int> DnsmasqOf(string stateDirectory) =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(d => d!.All(char.IsAsciiDigit)).Select(int.Parse!)
            .Where(pid => { try { return File.ReadAllText($"/proc/{pid}/cmdline").Contains(stateDirectory, StringComparison.Ordinal); } catch (IOException) { return false; } });

    [Fact]
    public async Task A_guest_gets_its_fixed_ip_router_dns_mtu_and_routes_then_loses_it_with_its_port_and_reconcile_removes_only_its_own_namespaces()
    {
        var bridges = new NetworkBridges(_host, null, new Dictionary<string, string>());
        await bridges.EnsureAsync(new NetworkBridges.Wiring(_networkId, "local", null, null, 1450), default);
        _servers = new DhcpServers(bridges, _state);
        var guestPort = GuestPort("fa:16:3e:00:00:05", Address(5), SubnetId);
        var dns = $"10.{_octet}.0.53";
        await _servers.ReconcileAsync([Network([guestPort], dns)], default);

        var server = Assert.Single(await _servers.ListAsync(default));
        Assert.Equal(_networkId, server.NetworkId);
        Assert.NotNull(server.Pid);
        Assert.Equal(DhcpServers.InsideDeviceOf(DhcpPortId), server.Interface);
        Assert.Contains(NetworkBridges.TapOf(DhcpPortId), await bridges.MembersAsync(NetworkBridges.BridgeOf(_networkId), default));
        Assert.Contains($"fa:16:3e:00:00:05,host-10-{_octet}-0-5.openstacklocal,{Address(5)}\n", File.ReadAllText(Path.Combine(_state, _networkId, "host")));

        var lease = await LeaseAsync(await PlugGuestAsync(bridges, "eth0", guestPort.MacAddress));
        Assert.Equal(Address(5), lease["ip"]);
        Assert.Equal("255.255.255.0", lease["subnet"]);
        Assert.Equal(Address(1), lease["router"]);
        Assert.Equal(dns, lease["dns"].Trim());
        Assert.Equal("1450", lease["mtu"]);
        Assert.Equal($"192.168.77.0/24 {Address(254)} 0.0.0.0/0 {Address(1)}", lease["staticroutes"]);
        Assert.Equal(lease["staticroutes"], lease["msstaticroutes"]);
        Assert.Equal($"host-10-{_octet}-0-5", lease["hostname"]);
        // dnsmasq serves DNS too, the ports' names from its addn_hosts file (asked from the address the guest leased).
        await _guest.IpAsync(default, "addr", "add", lease["ip"] + "/24", "dev", "eth0");
        var answer = await HostCommand.RunAsync("ip", ["netns", "exec", _guest.Namespace!, "busybox", "nslookup", "-type=a", $"host-10-{_octet}-0-5.openstacklocal", Address(2)]);
        Assert.Contains(Address(5), answer, StringComparison.Ordinal);

        // A port change is reread (SIGHUP, same process); the gone port's lease is released and a client with its MAC gets none.
        var other = GuestPort("fa:16:3e:00:00:06", Address(6), SubnetId);
        await _servers.ReconcileAsync([Network([other], dns)], default);
        Assert.Equal(server.Pid, (await _servers.ListAsync(default)).Single().Pid);
        Assert.DoesNotContain("fa:16:3e:00:00:05", File.ReadAllText(Path.Combine(_state, _networkId, "host")), StringComparison.Ordinal);
        var refused = await Assert.ThrowsAsync<HostCommandException>(() => LeaseAsync("eth0"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal(Address(6), (await LeaseAsync(await PlugGuestAsync(bridges, "eth1", other.MacAddress)))["ip"]);

        // A subnet's options are reread too (as Neutron, which restarts only when the DHCP-enabled CIDRs change).
        await _servers.ReconcileAsync([Network([other], "192.0.2.53")], default);
        Assert.Equal(server.Pid, (await _servers.ListAsync(default)).Single().Pid);
        Assert.Equal("192.0.2.53", (await LeaseAsync("eth1"))["dns"].Trim());

        // A new subnet restarts dnsmasq with its range; the other subnet is on-link for the guest.
        var grown = Network([other], "192.0.2.53");
        grown = grown with { Subnets = [.. grown.Subnets, new DhcpServers.Subnet(Guid.NewGuid().ToString(), $"10.{_octet}.1.0/24", null, [], [])] };
        await _servers.ReconcileAsync([grown], default);
        var restarted = (await _servers.ListAsync(default)).Single();
        Assert.NotNull(restarted.Pid);
        Assert.NotEqual(server.Pid, restarted.Pid);
        var renewed = await LeaseAsync("eth1");
        Assert.Equal(Address(6), renewed["ip"]);
        Assert.Equal($"10.{_octet}.1.0/24 0.0.0.0 192.168.77.0/24 {Address(254)} 0.0.0.0/0 {Address(1)}", renewed["staticroutes"]);

        // Nothing wanted: our server goes, with its namespace, dnsmasq and state; a qdhcp namespace we did not make stays.
        var foreign = DhcpServers.NamespaceOf(Guid.NewGuid().ToString());
        _otherNamespaces.Add(foreign);
        await new HostNetwork(foreign).EnsureNamespaceAsync(default);
        await _servers.ReconcileAsync([], default);
        Assert.Empty(await _servers.ListAsync(default));
        Assert.False(File.Exists(Path.Combine("/run/netns", DhcpServers.NamespaceOf(_networkId))));
        Assert.True(File.Exists(Path.Combine("/run/netns", foreign)));
        Assert.Empty(DnsmasqOf(_state));
        Assert.False(Directory.Exists(Path.Combine(_state, _networkId)));
        Assert.DoesNotContain(NetworkBridges.TapOf(DhcpPortId), await bridges.MembersAsync(NetworkBridges.BridgeOf(_networkId), default));
    }

    /// <summary>The expected texts are what Neutron Zed's Dnsmasq driver writes for the same network.</summary>
    [Fact]
    public void The_files_and_command_line_are_as_Neutron_writes_them()
    {
        var subnet = new DhcpServers.Subnet("s4", "10.1.0.0/24", null, ["8.8.8.8", "8.8.4.4"], [new DhcpServers.HostRoute("0.0.0.0/0", "10.1.0.254")]);
        var second = new DhcpServers.Subnet("s4b", "10.2.0.0/24", "10.2.0.1", [], []);
        var v6 = new DhcpServers.Subnet("s6", "fd00::/64", "fd00::1", [], [], Ipv6AddressMode: "dhcpv6-stateful", Ipv6RaMode: "dhcpv6-stateful");
        var slaac = new DhcpServers.Subnet("s6s", "fd01::/64", "fd01::1", [], [], Ipv6AddressMode: "slaac", Ipv6RaMode: "slaac");
        var off = new DhcpServers.Subnet("off", "10.3.0.0/24", "10.3.0.1", [], [], EnableDhcp: false);
        var port = new DhcpServers.Port("p1", "fa:16:3e:aa:bb:cc",
            [new DhcpServers.FixedIp("s4", "10.1.0.5"), new DhcpServers.FixedIp("s6", "fd00::5"), new DhcpServers.FixedIp("s6s", "fd01::5"), new DhcpServers.FixedIp("off", "10.3.0.5")],
            [new DhcpServers.ExtraOption("tftp-server", "10.1.0.9"), new DhcpServers.ExtraOption("bootfile-name", "pxelinux.0"), new DhcpServers.ExtraOption("59", "fd00::9", 6)]);
        var plain = new DhcpServers.Port("p2", "fa:16:3e:aa:bb:dd", [new DhcpServers.FixedIp("s4b", "10.2.0.7")]);
        var network = new DhcpServers.Network("n1", 1500, [subnet, second, v6, slaac, off],
            new DhcpServers.Port("dhcp", "fa:16:3e:00:00:01", [new DhcpServers.FixedIp("s4", "10.1.0.2")]), [port, plain]);
        var servers = new DhcpServers(new NetworkBridges(new HostNetwork(), null, new Dictionary<string, string>()), "/var/lib/stratus/dhcp");

        Assert.Equal(
            "fa:16:3e:aa:bb:cc,host-10-1-0-5.openstacklocal,10.1.0.5,set:port-p1\n" +
            "fa:16:3e:aa:bb:cc,tag:dhcpv6,host-fd00--5.openstacklocal,[fd00::5],set:port-p1\n" +
            "fa:16:3e:aa:bb:dd,host-10-2-0-7.openstacklocal,10.2.0.7\n",
            servers.HostsFile(network));
        Assert.Equal(
            "10.1.0.5\thost-10-1-0-5.openstacklocal host-10-1-0-5\n" +
            "fd00::5\thost-fd00--5.openstacklocal host-fd00--5\n" +
            "fd01::5\thost-fd01--5.openstacklocal host-fd01--5\n" +
            "10.3.0.5\thost-10-3-0-5.openstacklocal host-10-3-0-5\n" +
            "10.2.0.7\thost-10-2-0-7.openstacklocal host-10-2-0-7\n",
            servers.AddnHostsFile(network));
        Assert.Equal(string.Join('\n',
            "tag:subnet-s4,option:dns-server,8.8.8.8,8.8.4.4",
            "tag:subnet-s4,option:classless-static-route,10.3.0.0/24,0.0.0.0,10.2.0.0/24,0.0.0.0,0.0.0.0/0,10.1.0.254",
            "tag:subnet-s4,249,10.3.0.0/24,0.0.0.0,10.2.0.0/24,0.0.0.0,0.0.0.0/0,10.1.0.254",
            "tag:subnet-s4,option:router,10.1.0.254",
            "tag:subnet-s4b,option:classless-static-route,10.3.0.0/24,0.0.0.0,10.1.0.0/24,0.0.0.0,0.0.0.0/0,10.2.0.1",
            "tag:subnet-s4b,249,10.3.0.0/24,0.0.0.0,10.1.0.0/24,0.0.0.0,0.0.0.0/0,10.2.0.1",
            "tag:subnet-s4b,option:router,10.2.0.1",
            "tag:subnet-s6,option6:domain-search,openstacklocal",
            "tag:port-p1,option:tftp-server,10.1.0.9",
            "tag:port-p1,option:bootfile-name,pxelinux.0",
            "tag:port-p1,option6:59,fd00::9"), servers.OptsFile(network));
        // Neutron's own Dnsmasq driver builds these for the same network (checked with Debian's python3-neutron); --interface is ours.
        const string state = "/var/lib/stratus/dhcp/n1/";
        Assert.Equal([
            "--no-hosts", "--no-resolv", $"--pid-file={state}pid", $"--dhcp-hostsfile={state}host", $"--addn-hosts={state}addn_hosts",
            $"--dhcp-optsfile={state}opts", $"--dhcp-leasefile={state}leases", "--dhcp-match=set:ipxe,175", "--dhcp-userclass=set:ipxe6,iPXE",
            "--local-service", "--bind-dynamic", "--interface=ns-dhcp",
            "--dhcp-range=set:subnet-s4,10.1.0.0,static,255.255.255.0,86400s", "--dhcp-range=set:subnet-s4b,10.2.0.0,static,255.255.255.0,86400s",
            "--dhcp-range=set:subnet-s6,fd00::,static,64,86400s", "--dhcp-option-force=option:mtu,1500", "--dhcp-lease-max=16777216",
            "--conf-file=/dev/null", "--domain=openstacklocal"], servers.CommandLine(network, "ns-dhcp"));
    }

    /// <summary>Neutron's metadata routes: through the DHCP port on an isolated subnet, through the router's gateway where a router holds it.</summary>
    [Fact]
    public void With_isolated_metadata_guests_get_a_route_to_the_proxy_through_the_dhcp_port_or_the_router()
    {
        var isolated = new DhcpServers.Subnet("s1", "10.1.0.0/24", "10.1.0.1", [], []);
        var routed = new DhcpServers.Subnet("s2", "10.2.0.0/24", "10.2.0.1", [], []);
        var router = new DhcpServers.Port("r", "fa:16:3e:00:00:09", [new DhcpServers.FixedIp("s2", "10.2.0.1")], DeviceOwner: "network:router_interface");
        var network = new DhcpServers.Network("n1", 1500, [isolated, routed],
            new DhcpServers.Port("dhcp", "fa:16:3e:00:00:01", [new DhcpServers.FixedIp("s1", "10.1.0.2"), new DhcpServers.FixedIp("s2", "10.2.0.2")]), [router]);
        var bridges = new NetworkBridges(new HostNetwork(), null, new Dictionary<string, string>());
        var proxies = new MetadataProxies("/var/lib/stratus/ns-metadata-proxy", "/var/lib/stratus/metadata_proxy");
        var servers = new DhcpServers(bridges, "/var/lib/stratus/dhcp", metadata: new(proxies, EnableIsolatedMetadata: true, ForceMetadata: false));

        Assert.Equal(string.Join('\n',
            "tag:subnet-s1,option:classless-static-route,10.2.0.0/24,0.0.0.0,169.254.169.254/32,10.1.0.2,0.0.0.0/0,10.1.0.1",
            "tag:subnet-s1,249,10.2.0.0/24,0.0.0.0,169.254.169.254/32,10.1.0.2,0.0.0.0/0,10.1.0.1",
            "tag:subnet-s1,option:router,10.1.0.1",
            "tag:subnet-s2,option:classless-static-route,10.1.0.0/24,0.0.0.0,169.254.169.254/32,10.2.0.1,0.0.0.0/0,10.2.0.1",
            "tag:subnet-s2,249,10.1.0.0/24,0.0.0.0,169.254.169.254/32,10.2.0.1,0.0.0.0/0,10.2.0.1",
            "tag:subnet-s2,option:router,10.2.0.1"), servers.OptsFile(network));
        Assert.True(servers.ShouldEnableMetadata(network));
        // Every subnet routed: the L3 agent's proxy serves the network, not this one.
        var allRouted = network with { Subnets = [routed], DhcpPort = network.DhcpPort with { FixedIps = [new DhcpServers.FixedIp("s2", "10.2.0.2")] } };
        Assert.False(servers.ShouldEnableMetadata(allRouted));
        Assert.True(new DhcpServers(bridges, "/x", metadata: new(proxies, false, ForceMetadata: true)).ShouldEnableMetadata(allRouted));
        Assert.False(new DhcpServers(bridges, "/x").ShouldEnableMetadata(network));
        Assert.Contains("http-request set-header X-Neutron-Network-ID n1", proxies.Config(new MetadataProxies.Proxy("n1", "qdhcp-n1", ForRouter: false)), StringComparison.Ordinal);
        Assert.Contains("http-request del-header X-Neutron-Router-ID", proxies.Config(new MetadataProxies.Proxy("n1", "qdhcp-n1", ForRouter: false)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_isolated_networks_guest_reaches_the_metadata_proxy_which_names_its_network_and_address_to_the_agent_and_goes_with_the_server()
    {
        var bridges = new NetworkBridges(_host, null, new Dictionary<string, string>());
        await bridges.EnsureAsync(new NetworkBridges.Wiring(_networkId, "local", null, null, 1450), default);
        Directory.CreateDirectory(_state);
        // The metadata agent's socket, here a listener that answers with what the proxy told it.
        var socket = Path.Combine(_state, "metadata_proxy");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socket));
        await using var agent = builder.Build();
        agent.Run(http => http.Response.WriteAsync(
            $"{http.Request.Path} network={http.Request.Headers["X-Neutron-Network-ID"]} router={http.Request.Headers["X-Neutron-Router-ID"]} from={http.Request.Headers["X-Forwarded-For"]}"));
        await agent.StartAsync();
        var proxies = new MetadataProxies(Path.Combine(_state, "ns-metadata-proxy"), socket);
        _servers = new DhcpServers(bridges, Path.Combine(_state, "dhcp"), metadata: new(proxies, EnableIsolatedMetadata: true, ForceMetadata: false));
        var guestPort = GuestPort("fa:16:3e:00:00:07", Address(7), SubnetId);
        await _servers.ReconcileAsync([Network([guestPort])], default);
        var proxy = Assert.Single(proxies.List());
        Assert.Equal(_networkId, proxy.Id);
        Assert.NotNull(proxy.Pid);

        var lease = await LeaseAsync(await PlugGuestAsync(bridges, "eth0", guestPort.MacAddress));
        Assert.Contains($"169.254.169.254/32 {Address(2)}", lease["staticroutes"], StringComparison.Ordinal);
        await _guest.IpAsync(default, "addr", "add", lease["ip"] + "/24", "dev", "eth0");
        await _guest.IpAsync(default, "route", "add", "169.254.169.254/32", "via", Address(2));
        // A guest's own header naming a router is dropped by the proxy, which sets the network's.
        var answer = await HostCommand.RunAsync("ip", ["netns", "exec", _guest.Namespace!, "busybox", "wget", "-q", "-O", "-",
            "--header", "X-Neutron-Router-ID: spoofed", "http://169.254.169.254/openstack/latest/meta_data.json"]);
        Assert.Equal($"/openstack/latest/meta_data.json network={_networkId} router= from={Address(7)}", answer);

        await _servers.ReconcileAsync([], default);
        Assert.Empty(proxies.List());
        Assert.DoesNotContain(Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(d => d!.All(char.IsAsciiDigit)),
            pid => { try { return File.ReadAllText($"/proc/{pid}/cmdline").Contains(_state, StringComparison.Ordinal); } catch (IOException) { return false; } });
    }
}
