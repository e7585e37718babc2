using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using static Stratus.Testing.NeutronCalls;

namespace Stratus.Network.Tests;

/// <summary>Routers and floating IPs (Neutron's L3 router service plugin) through the real openstack CLI and raw HTTP.</summary>
public sealed class RouterTests(NetworkServer net) : IClassFixture<NetworkServer>
{

    async Task RunAsync(params string[] args) =>
        (await ProcessRunner.RunAsync("openstack", args, net.AdminEnv())).EnsureSuccess("openstack " + string.Join(' ', args));

    /// <summary>A network with one IPv4 subnet, made by the admin; external when asked.</summary>
    async Task<(string NetworkId, string SubnetId)> NetworkAsync(HttpClient client, string cidr, bool external = false, bool gateway = true)
    {
        var network = new JsonObject { ["name"] = Name(external ? "ext" : "int") };
        if (external) network["router:external"] = true;
        var n = await ExpectAsync(client.PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = network }), HttpStatusCode.Created);
        var networkId = (string)n["network"]!["id"]!;
        var subnet = new JsonObject { ["network_id"] = networkId, ["ip_version"] = 4, ["cidr"] = cidr };
        if (!gateway) subnet["gateway_ip"] = null;
        var s = await ExpectAsync(client.PostAsJsonAsync("v2.0/subnets", new JsonObject { ["subnet"] = subnet }), HttpStatusCode.Created);
        return (networkId, (string)s["subnet"]!["id"]!);
    }

    static JsonObject Body(string name, JsonObject value) => new() { [name] = value };

    [Fact]
    public async Task The_openstack_CLI_routes_a_subnet_to_an_external_network_and_gives_a_port_a_floating_ip()
    {
        var admin = net.Admin();
        var extName = Name("public");
        var ext = await net.OpenStackAsync("network", "create", "--external", extName);
        var extId = (string)ext["id"]!;
        await net.OpenStackAsync("subnet", "create", "--network", extName, "--subnet-range", "172.24.40.0/24", Name("public-sub"));
        var intName = Name("private");
        var intNet = await net.OpenStackAsync("network", "create", intName);
        var subName = Name("private-sub");
        var sub = await net.OpenStackAsync("subnet", "create", "--network", intName, "--subnet-range", "10.50.0.0/24", subName);
        var subnetId = (string)sub["id"]!;

        var routerName = Name("router");
        var router = await net.OpenStackAsync("router", "create", routerName);
        var routerId = (string)router["id"]!;
        Assert.Equal("ACTIVE", (string?)router["status"]);
        var raw = (await ExpectAsync(admin.GetAsync($"v2.0/routers/{routerId}"), HttpStatusCode.OK))["router"]!.AsObject();
        Assert.Null(raw["external_gateway_info"]);
        Assert.False((bool)raw["ha"]!);
        Assert.False((bool)raw["distributed"]!);
        Assert.Empty(raw["routes"]!.AsArray());
        Assert.Null(raw["flavor_id"]);

        // The interface takes the subnet's gateway address.
        await RunAsync("router", "add", "subnet", routerName, subName);
        var interfaces = (await ExpectAsync(admin.GetAsync($"v2.0/ports?device_id={routerId}&device_owner=network:router_interface"), HttpStatusCode.OK))["ports"]!.AsArray();
        var iface = Assert.Single(interfaces)!;
        Assert.Equal("10.50.0.1", (string?)iface["fixed_ips"]![0]!["ip_address"]);
        Assert.Equal(subnetId, (string?)iface["fixed_ips"]![0]!["subnet_id"]);

        await RunAsync("router", "set", "--external-gateway", extName, routerName);
        raw = (await ExpectAsync(admin.GetAsync($"v2.0/routers/{routerId}"), HttpStatusCode.OK))["router"]!.AsObject();
        var gw = raw["external_gateway_info"]!;
        Assert.Equal(extId, (string?)gw["network_id"]);
        Assert.True((bool)gw["enable_snat"]!);
        var gwIp = (string)gw["external_fixed_ips"]![0]!["ip_address"]!;
        Assert.StartsWith("172.24.40.", gwIp);
        var gwPort = Assert.Single((await ExpectAsync(admin.GetAsync($"v2.0/ports?device_id={routerId}&device_owner=network:router_gateway"), HttpStatusCode.OK))["ports"]!.AsArray())!;
        Assert.Equal("", (string?)gwPort["project_id"]);
        Assert.Equal(extId, (string?)gwPort["network_id"]);
        var shown = await net.OpenStackAsync("router", "show", routerName);
        Assert.Contains(gwIp, shown.ToJsonString());

        // A "server" port on the private network, and a floating IP of the external one for it.
        var portName = Name("vm");
        var port = await net.OpenStackAsync("port", "create", "--network", intName, "--device-owner", "compute:nova", "--fixed-ip", "ip-address=10.50.0.20", portName);
        var portId = (string)port["id"]!;
        var fip = await net.OpenStackAsync("floating", "ip", "create", extName);
        var fipId = (string)fip["id"]!;
        var fipAddress = (string)fip["floating_ip_address"]!;
        Assert.StartsWith("172.24.40.", fipAddress);
        Assert.NotEqual(gwIp, fipAddress);
        Assert.Equal("DOWN", (string?)fip["status"]);
        var fipPort = Assert.Single((await ExpectAsync(admin.GetAsync($"v2.0/ports?device_id={fipId}"), HttpStatusCode.OK))["ports"]!.AsArray())!;
        Assert.Equal("network:floatingip", (string?)fipPort["device_owner"]);
        Assert.Equal(fipAddress, (string?)fipPort["fixed_ips"]![0]!["ip_address"]);

        await RunAsync("floating", "ip", "set", "--port", portName, fipId);
        var associated = await net.OpenStackAsync("floating", "ip", "show", fipId);
        Assert.Equal(portId, (string?)associated["port_id"]);
        Assert.Equal("10.50.0.20", (string?)associated["fixed_ip_address"]);
        Assert.Equal(routerId, (string?)associated["router_id"]);
        var details = (await ExpectAsync(admin.GetAsync($"v2.0/floatingips/{fipId}"), HttpStatusCode.OK))["floatingip"]!["port_details"]!;
        Assert.Equal("compute:nova", (string?)details["device_owner"]);
        Assert.Equal(intNet["id"]!.ToString(), (string?)details["network_id"]);
        var listed = (await net.OpenStackAsync("floating", "ip", "list")).AsArray();
        Assert.Contains(listed, f => (string?)f!["ID"] == fipId && (string?)f["Fixed IP Address"] == "10.50.0.20");

        // The interface carries the floating IP's traffic: it stays while the association does.
        var inUse = await ProcessRunner.RunAsync("openstack", ["router", "remove", "subnet", routerName, subName], net.AdminEnv());
        Assert.NotEqual(0, inUse.ExitCode);
        Assert.Contains("required by one or more floating IPs", inUse.Stderr + inUse.Stdout);

        // Deleting the port dissociates its floating IP.
        await RunAsync("port", "delete", portName);
        var dissociated = (await ExpectAsync(admin.GetAsync($"v2.0/floatingips/{fipId}"), HttpStatusCode.OK))["floatingip"]!;
        Assert.Null(dissociated["port_id"]);
        Assert.Null(dissociated["router_id"]);
        Assert.Null(dissociated["port_details"]);
        // The gateway keeps the external network external.
        await ExpectAsync(admin.PutAsJsonAsync($"v2.0/networks/{extId}", Body("network", new JsonObject { ["router:external"] = false })),
            HttpStatusCode.Conflict, "ExternalNetworkInUse");

        await RunAsync("floating", "ip", "delete", fipId);
        await ExpectAsync(admin.GetAsync($"v2.0/floatingips/{fipId}"), HttpStatusCode.NotFound, "FloatingIPNotFound");
        await ExpectAsync(admin.GetAsync($"v2.0/ports/{(string)fipPort["id"]!}"), HttpStatusCode.NotFound, "PortNotFound");

        await RunAsync("router", "remove", "subnet", routerName, subName);
        await ExpectAsync(admin.GetAsync($"v2.0/ports/{(string)iface["id"]!}"), HttpStatusCode.NotFound, "PortNotFound");
        await RunAsync("router", "delete", routerName);
        await ExpectAsync(admin.GetAsync($"v2.0/routers/{routerId}"), HttpStatusCode.NotFound, "RouterNotFound");
        await ExpectAsync(admin.GetAsync($"v2.0/ports/{(string)gwPort["id"]!}"), HttpStatusCode.NotFound, "PortNotFound");
        // With the gateway port gone the external network deletes.
        await RunAsync("network", "delete", extName);
    }

    [Fact]
    public async Task Overlapping_subnets_in_use_routers_and_bad_routes_get_Neutrons_errors()
    {
        var admin = net.Admin();
        var (_, first) = await NetworkAsync(admin, "10.60.0.0/24");
        var (_, overlapping) = await NetworkAsync(admin, "10.60.0.0/25");
        var (_, noGateway) = await NetworkAsync(admin, "10.61.0.0/24", gateway: false);
        var r = await ExpectAsync(admin.PostAsJsonAsync("v2.0/routers", Body("router", new JsonObject { ["name"] = Name("r") })), HttpStatusCode.Created);
        var id = (string)r["router"]!["id"]!;
        var revision = (long)r["router"]!["revision_number"]!;

        var added = await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}/add_router_interface", new JsonObject { ["subnet_id"] = first }), HttpStatusCode.OK);
        Assert.Equal(id, (string?)added["id"]);
        Assert.Equal(first, (string?)added["subnet_id"]);
        var interfacePort = (string)added["port_id"]!;
        var after = await ExpectAsync(admin.GetAsync($"v2.0/routers/{id}"), HttpStatusCode.OK);
        Assert.True((long)after["router"]!["revision_number"]! > revision);

        var overlap = await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}/add_router_interface", new JsonObject { ["subnet_id"] = overlapping }),
            HttpStatusCode.BadRequest, "BadRequest");
        Assert.Equal($"Bad router request: Cidr 10.60.0.0/25 of subnet {overlapping} overlaps with cidr 10.60.0.0/24 of subnet {first}.",
            (string?)overlap["NeutronError"]!["message"]);
        var again = await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}/add_router_interface", new JsonObject { ["subnet_id"] = first }),
            HttpStatusCode.BadRequest, "BadRequest");
        Assert.Contains($"Router already has a port on subnet {first}", (string?)again["NeutronError"]!["message"]);
        var bare = await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}/add_router_interface", new JsonObject { ["subnet_id"] = noGateway }),
            HttpStatusCode.BadRequest, "BadRequest");
        Assert.Contains("must have a gateway IP", (string?)bare["NeutronError"]!["message"]);
        await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}/add_router_interface", new JsonObject()), HttpStatusCode.BadRequest, "BadRequest");

        // In use: the router by its interface, the subnet and the port by the router.
        var busy = await ExpectAsync(admin.DeleteAsync($"v2.0/routers/{id}"), HttpStatusCode.Conflict, "RouterInUse");
        Assert.Equal($"Router {id} has ports still attached: {interfacePort}", (string?)busy["NeutronError"]!["message"]);
        await ExpectAsync(admin.DeleteAsync($"v2.0/subnets/{first}"), HttpStatusCode.Conflict, "SubnetInUse");
        await ExpectAsync(admin.DeleteAsync($"v2.0/ports/{interfacePort}"), HttpStatusCode.Conflict, "ServicePortInUse");

        // Extra routes: the next hop must be on a connected subnet and not the router's own address.
        JsonObject Routes(string hop) => Body("router", new JsonObject { ["routes"] = new JsonArray(new JsonObject { ["destination"] = "192.168.7.0/24", ["nexthop"] = hop }) });
        await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}", Routes("10.99.0.5")), HttpStatusCode.BadRequest, "InvalidRoutes");
        await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}", Routes("10.60.0.1")), HttpStatusCode.BadRequest, "InvalidRoutes");
        var routed = await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}", Routes("10.60.0.5")), HttpStatusCode.OK);
        Assert.Equal("10.60.0.5", (string?)routed["router"]!["routes"]![0]!["nexthop"]);
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/routers", Body("router", new JsonObject { ["routes"] = new JsonArray() })), HttpStatusCode.BadRequest);
        await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}/remove_router_interface", new JsonObject { ["subnet_id"] = first }),
            HttpStatusCode.Conflict, "RouterInterfaceInUseByRoute");
        await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}", Body("router", new JsonObject { ["routes"] = new JsonArray() })), HttpStatusCode.OK);
        await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}/remove_router_interface", new JsonObject { ["subnet_id"] = overlapping }),
            HttpStatusCode.NotFound, "RouterInterfaceNotFoundForSubnet");
        var removed = await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}/remove_router_interface", new JsonObject { ["port_id"] = interfacePort }), HttpStatusCode.OK);
        Assert.Equal(first, (string?)removed["subnet_id"]);
        // Now the other subnet fits.
        await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}/add_router_interface", new JsonObject { ["subnet_id"] = overlapping }), HttpStatusCode.OK);

        // Gateways and floating IPs need an external network.
        var (plainNet, _) = await NetworkAsync(admin, "10.62.0.0/24");
        var notExternal = await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}", Body("router", new JsonObject
        {
            ["external_gateway_info"] = new JsonObject { ["network_id"] = plainNet },
        })), HttpStatusCode.BadRequest, "BadRequest");
        Assert.Equal($"Bad router request: Network {plainNet} is not an external network.", (string?)notExternal["NeutronError"]!["message"]);
        var fipOnPlain = await ExpectAsync(admin.PostAsJsonAsync("v2.0/floatingips", Body("floatingip", new JsonObject { ["floating_network_id"] = plainNet })),
            HttpStatusCode.BadRequest, "BadRequest");
        Assert.Equal($"Bad floatingip request: Network {plainNet} is not a valid external network.", (string?)fipOnPlain["NeutronError"]!["message"]);
        var (extNet, _) = await NetworkAsync(admin, "172.24.41.0/24", external: true);
        var (lonelyNet, _) = await NetworkAsync(admin, "10.63.0.0/24");
        var lonely = await ExpectAsync(admin.PostAsJsonAsync("v2.0/ports", Body("port", new JsonObject { ["network_id"] = lonelyNet })), HttpStatusCode.Created);
        var unreachable = await ExpectAsync(admin.PostAsJsonAsync("v2.0/floatingips", Body("floatingip", new JsonObject
        {
            ["floating_network_id"] = extNet, ["port_id"] = (string)lonely["port"]!["id"]!,
        })), HttpStatusCode.NotFound, "ExternalGatewayForFloatingIPNotFound");
        Assert.Contains("is not reachable from subnet", (string?)unreachable["NeutronError"]!["message"]);
        // Nothing half-made: the refused floating IP left no port on the external network.
        Assert.Empty((await ExpectAsync(admin.GetAsync($"v2.0/ports?network_id={extNet}"), HttpStatusCode.OK))["ports"]!.AsArray());

        // An asked-for address, and the same one again.
        var chosen = await ExpectAsync(admin.PostAsJsonAsync("v2.0/floatingips", Body("floatingip", new JsonObject
        {
            ["floating_network_id"] = extNet, ["floating_ip_address"] = "172.24.41.77",
        })), HttpStatusCode.Created);
        Assert.Equal("172.24.41.77", (string?)chosen["floatingip"]!["floating_ip_address"]);
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/floatingips", Body("floatingip", new JsonObject
        {
            ["floating_network_id"] = extNet, ["floating_ip_address"] = "172.24.41.77",
        })), HttpStatusCode.Conflict, "IpAddressAlreadyAllocated");
        var pools = await ExpectAsync(admin.GetAsync("v2.0/floatingip_pools"), HttpStatusCode.OK);
        Assert.Contains(pools["floatingip_pools"]!.AsArray(), p => (string?)p!["network_id"] == extNet && (string?)p["cidr"] == "172.24.41.0/24");
    }

    [Fact]
    public async Task Another_project_can_neither_see_nor_change_a_router_and_members_cannot_set_admin_attributes()
    {
        var admin = net.Admin();
        var (alice, aliceProject) = await net.MemberAsync();
        var (bob, _) = await net.MemberAsync();
        var (extNet, _) = await NetworkAsync(admin, "172.24.42.0/24", external: true);
        var (aliceNet, aliceSubnet) = await NetworkAsync(alice, "10.70.0.0/24");

        var r = await ExpectAsync(alice.PostAsJsonAsync("v2.0/routers", Body("router", new JsonObject
        {
            ["name"] = Name("alice"), ["external_gateway_info"] = new JsonObject { ["network_id"] = extNet },
        })), HttpStatusCode.Created);
        var router = r["router"]!.AsObject();
        var id = (string)router["id"]!;
        Assert.Equal(aliceProject, (string?)router["project_id"]);
        Assert.Equal(extNet, (string?)router["external_gateway_info"]!["network_id"]);
        // ha and distributed are the admin's to see (get_router:ha, get_router:distributed).
        Assert.False(router.ContainsKey("ha"));
        Assert.False(router.ContainsKey("distributed"));
        // The gateway port is the service's: not in the owner's port list.
        var alicePorts = (await ExpectAsync(alice.GetAsync("v2.0/ports"), HttpStatusCode.OK))["ports"]!.AsArray();
        Assert.DoesNotContain(alicePorts, p => (string?)p!["device_id"] == id);

        await ExpectAsync(alice.PostAsJsonAsync("v2.0/routers", Body("router", new JsonObject { ["ha"] = true })), HttpStatusCode.Forbidden, "PolicyNotAuthorized");
        var snat = await ExpectAsync(alice.PutAsJsonAsync($"v2.0/routers/{id}", Body("router", new JsonObject
        {
            ["external_gateway_info"] = new JsonObject { ["network_id"] = extNet, ["enable_snat"] = false },
        })), HttpStatusCode.Forbidden, "PolicyNotAuthorized");
        Assert.Contains("update_router:external_gateway_info:enable_snat", (string?)snat["NeutronError"]!["message"]);
        await ExpectAsync(alice.PutAsJsonAsync($"v2.0/routers/{id}/add_router_interface", new JsonObject { ["subnet_id"] = aliceSubnet }), HttpStatusCode.OK);

        // Bob's view: no such router, whatever he tries.
        await ExpectAsync(bob.GetAsync($"v2.0/routers/{id}"), HttpStatusCode.NotFound, "RouterNotFound");
        await ExpectAsync(bob.PutAsJsonAsync($"v2.0/routers/{id}", Body("router", new JsonObject { ["name"] = "mine" })), HttpStatusCode.NotFound, "RouterNotFound");
        await ExpectAsync(bob.PutAsJsonAsync($"v2.0/routers/{id}/remove_router_interface", new JsonObject { ["subnet_id"] = aliceSubnet }), HttpStatusCode.NotFound, "RouterNotFound");
        await ExpectAsync(bob.DeleteAsync($"v2.0/routers/{id}"), HttpStatusCode.NotFound, "RouterNotFound");
        var bobs = (await ExpectAsync(bob.GetAsync("v2.0/routers"), HttpStatusCode.OK))["routers"]!.AsArray();
        Assert.DoesNotContain(bobs, x => (string?)x!["id"] == id);
        var alices = (await ExpectAsync(alice.GetAsync("v2.0/routers"), HttpStatusCode.OK))["routers"]!.AsArray();
        Assert.Contains(alices, x => (string?)x!["id"] == id);

        // Alice's floating IP: an address of her choosing is the admin's; Bob sees none of it.
        await ExpectAsync(alice.PostAsJsonAsync("v2.0/floatingips", Body("floatingip", new JsonObject
        {
            ["floating_network_id"] = extNet, ["floating_ip_address"] = "172.24.42.50",
        })), HttpStatusCode.Forbidden, "PolicyNotAuthorized");
        var vm = await ExpectAsync(alice.PostAsJsonAsync("v2.0/ports", Body("port", new JsonObject { ["network_id"] = aliceNet })), HttpStatusCode.Created);
        var f = await ExpectAsync(alice.PostAsJsonAsync("v2.0/floatingips", Body("floatingip", new JsonObject
        {
            ["floating_network_id"] = extNet, ["port_id"] = (string)vm["port"]!["id"]!,
        })), HttpStatusCode.Created);
        var fipId = (string)f["floatingip"]!["id"]!;
        Assert.Equal(id, (string?)f["floatingip"]!["router_id"]);
        await ExpectAsync(bob.GetAsync($"v2.0/floatingips/{fipId}"), HttpStatusCode.NotFound, "FloatingIPNotFound");
        await ExpectAsync(bob.PutAsJsonAsync($"v2.0/floatingips/{fipId}", Body("floatingip", new JsonObject { ["port_id"] = null })), HttpStatusCode.NotFound);
        // While the floating IP uses the gateway, the router keeps it.
        await ExpectAsync(alice.PutAsJsonAsync($"v2.0/routers/{id}", Body("router", new JsonObject { ["external_gateway_info"] = new JsonObject() })),
            HttpStatusCode.Conflict, "RouterExternalGatewayInUseByFloatingIp");
        var off = await ExpectAsync(alice.PutAsJsonAsync($"v2.0/floatingips/{fipId}", Body("floatingip", new JsonObject { ["port_id"] = null })), HttpStatusCode.OK);
        Assert.Null(off["floatingip"]!["router_id"]);
        var cleared = await ExpectAsync(alice.PutAsJsonAsync($"v2.0/routers/{id}", Body("router", new JsonObject { ["external_gateway_info"] = new JsonObject() })), HttpStatusCode.OK);
        Assert.Null(cleared["router"]!["external_gateway_info"]);
    }

    [Fact]
    public async Task The_L3_extensions_are_listed_and_zone_hints_are_checked()
    {
        var admin = net.Admin();
        var extensions = await ExpectAsync(admin.GetAsync("v2.0/extensions"), HttpStatusCode.OK);
        var aliases = extensions["extensions"]!.AsArray().Select(e => (string?)e!["alias"]).ToList();
        foreach (var alias in new[] { "router", "ext-gw-mode", "extraroute", "extraroute-atomic", "router_availability_zone", "fip-port-details", "floatingip-pools" })
            Assert.Contains(alias, aliases);
        Assert.DoesNotContain("l3-ha", aliases);
        Assert.DoesNotContain("dvr", aliases);
        var zoned = await ExpectAsync(admin.PostAsJsonAsync("v2.0/routers", Body("router", new JsonObject { ["availability_zone_hints"] = new JsonArray("nova") })), HttpStatusCode.Created);
        Assert.Equal("nova", (string?)zoned["router"]!["availability_zone_hints"]![0]);
        Assert.Empty(zoned["router"]!["availability_zones"]!.AsArray());
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/routers", Body("router", new JsonObject { ["availability_zone_hints"] = new JsonArray("nowhere") })),
            HttpStatusCode.NotFound, "AvailabilityZoneNotFound");
        // extraroute-atomic through the CLI: router add route / remove route.
        var (_, subnet) = await NetworkAsync(admin, "10.80.0.0/24");
        var id = (string)zoned["router"]!["id"]!;
        await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{id}/add_router_interface", new JsonObject { ["subnet_id"] = subnet }), HttpStatusCode.OK);
        await RunAsync("router", "add", "route", "--route", "destination=192.168.9.0/24,gateway=10.80.0.9", id);
        var routed = (await ExpectAsync(admin.GetAsync($"v2.0/routers/{id}"), HttpStatusCode.OK))["router"]!;
        Assert.Equal("192.168.9.0/24", (string?)routed["routes"]![0]!["destination"]);
        await RunAsync("router", "remove", "route", "--route", "destination=192.168.9.0/24,gateway=10.80.0.9", id);
        routed = (await ExpectAsync(admin.GetAsync($"v2.0/routers/{id}"), HttpStatusCode.OK))["router"]!;
        Assert.Empty(routed["routes"]!.AsArray());
    }
}
