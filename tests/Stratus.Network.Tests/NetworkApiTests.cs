using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using static Stratus.Testing.NeutronCalls;

namespace Stratus.Network.Tests;

/// <summary>Networks, subnets and ports through the real openstack CLI and raw HTTP, against a real identity.</summary>
public sealed class NetworkApiTests(NetworkServer net) : IClassFixture<NetworkServer>
{

    [Fact]
    public async Task Versions_need_no_token_and_the_API_needs_one()
    {
        var anonymous = net.Client(null);
        var versions = await ExpectAsync(anonymous.GetAsync("/"), HttpStatusCode.OK);
        Assert.Equal("v2.0", (string?)versions["versions"]![0]!["id"]);
        await ExpectAsync(anonymous.GetAsync("v2.0/networks"), HttpStatusCode.Unauthorized);
        var extensions = await ExpectAsync(net.Admin().GetAsync("v2.0/extensions"), HttpStatusCode.OK);
        var aliases = extensions["extensions"]!.AsArray().Select(e => (string?)e!["alias"]).ToList();
        Assert.Contains("provider", aliases);
        Assert.Contains("binding", aliases);
        await ExpectAsync(net.Admin().GetAsync("v2.0/extensions/no-such-thing"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_openstack_CLI_creates_lists_shows_and_deletes_networks_subnets_and_ports()
    {
        var name = Name("net");
        var network = await net.OpenStackAsync("network", "create", name);
        var networkId = (string)network["id"]!;
        Assert.Equal("vxlan", (string?)network["provider:network_type"]);
        var vnis = net.Node.Options<NetworkOptions>().Ml2.VniRanges.Single();
        Assert.InRange((int)network["provider:segmentation_id"]!, vnis.Min, vnis.Max);
        Assert.Equal(1450, (int)network["mtu"]!);

        var subnet = await net.OpenStackAsync("subnet", "create", "--network", name, "--subnet-range", "10.10.0.0/24",
            "--dns-nameserver", "10.10.0.53", Name("sub"));
        Assert.Equal("10.10.0.1", (string?)subnet["gateway_ip"]);
        Assert.Equal("10.10.0.2", (string?)subnet["allocation_pools"]![0]!["start"]);
        Assert.Equal("10.10.0.254", (string?)subnet["allocation_pools"]![0]!["end"]);

        var portName = Name("port");
        // Far above the lowest free addresses, among which the DHCP agent's port may have taken its own at random.
        var port = await net.OpenStackAsync("port", "create", "--network", name, "--fixed-ip", "ip-address=10.10.0.250", portName);
        Assert.Contains("10.10.0.250", port["fixed_ips"]!.ToJsonString());
        Assert.StartsWith("fa:16:3e:", (string?)port["mac_address"]);
        var listed = (await net.OpenStackAsync("port", "list", "--network", networkId)).AsArray();
        Assert.Contains(listed, p => (string?)p!["Name"] == portName);
        var shown = await net.OpenStackAsync("port", "show", portName);
        Assert.Equal((string?)port["id"], (string?)shown["id"]);

        // A network with a port is in use; once the port is gone it deletes with its subnet.
        var inUse = await ProcessRunner.RunAsync("openstack", ["network", "delete", name], net.AdminEnv());
        Assert.NotEqual(0, inUse.ExitCode);
        (await ProcessRunner.RunAsync("openstack", ["port", "delete", portName], net.AdminEnv())).EnsureSuccess("port delete");
        (await ProcessRunner.RunAsync("openstack", ["network", "delete", name], net.AdminEnv())).EnsureSuccess("network delete");
        await ExpectAsync(net.Admin().GetAsync($"v2.0/networks/{networkId}"), HttpStatusCode.NotFound, "NetworkNotFound");
        await ExpectAsync(net.Admin().GetAsync($"v2.0/subnets/{(string)subnet["id"]!}"), HttpStatusCode.NotFound, "SubnetNotFound");
    }

    [Fact]
    public async Task Concurrent_port_creates_never_get_the_same_address_and_an_exhausted_pool_is_a_409()
    {
        var admin = net.Admin();
        var n = await ExpectAsync(admin.PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = Name("ipam") } }), HttpStatusCode.Created);
        var networkId = (string)n["network"]!["id"]!;
        // A /28 has 13 addresses for ports (.2 to .14; .1 is the gateway); without DHCP, no agent's DHCP port takes one meanwhile.
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject { ["network_id"] = networkId, ["ip_version"] = 4, ["cidr"] = "10.20.0.0/28", ["enable_dhcp"] = false },
        }), HttpStatusCode.Created);
        var creates = Enumerable.Range(0, 13).Select(_ => admin.PostAsJsonAsync("v2.0/ports", new JsonObject { ["port"] = new JsonObject { ["network_id"] = networkId } }));
        var results = await Task.WhenAll(creates);
        var addresses = new List<string>();
        foreach (var r in results)
        {
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            addresses.Add((string)(await r.Content.ReadFromJsonAsync<JsonObject>())!["port"]!["fixed_ips"]![0]!["ip_address"]!);
        }
        Assert.Equal(13, addresses.Distinct().Count());
        Assert.DoesNotContain("10.20.0.1", addresses);
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/ports", new JsonObject { ["port"] = new JsonObject { ["network_id"] = networkId } }),
            HttpStatusCode.Conflict, "IpAddressGenerationFailure");
        // A second IPv4 subnet: a port takes its address from the first subnet with room, as Neutron's IPAM does.
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject { ["network_id"] = networkId, ["ip_version"] = 4, ["cidr"] = "10.20.0.16/28", ["enable_dhcp"] = false },
        }), HttpStatusCode.Created);
        var next = await ExpectAsync(admin.PostAsJsonAsync("v2.0/ports", new JsonObject { ["port"] = new JsonObject { ["network_id"] = networkId } }), HttpStatusCode.Created);
        Assert.InRange(int.Parse(((string)next["port"]!["fixed_ips"]![0]!["ip_address"]!).Split('.')[3]), 18, 30);
    }

    [Fact]
    public async Task Port_lists_filter_cut_to_fields_sort_and_page_as_Neutron_does()
    {
        var admin = net.Admin();
        var (networkId, _) = await NetworkWithSubnetAsync(admin, "10.32.0.0/24");
        var names = Enumerable.Range(0, 5).Select(_ => Name("list")).ToList();
        foreach (var name in names)
            await ExpectAsync(admin.PostAsJsonAsync("v2.0/ports", new JsonObject { ["port"] = new JsonObject { ["network_id"] = networkId, ["name"] = name } }),
                HttpStatusCode.Created);
        async Task<List<string>> Names(string query, string? links = null)
        {
            var body = await ExpectAsync(admin.GetAsync($"v2.0/ports?network_id={networkId}&device_owner=&{query}"), HttpStatusCode.OK);
            if (links is not null) Assert.Equal(links, string.Join(",", (body["ports_links"] as JsonArray ?? []).Select(l => (string?)l!["rel"])));
            return [.. body["ports"]!.AsArray().Select(p => (string)p!["name"]!)];
        }

        // Unpaged (written as each port is made): creation order, filters OR'd within an attribute, cut to fields.
        Assert.Equal(names, await Names(""));
        Assert.Equal([names[1], names[3]], await Names($"name={names[1]}&name={names[3]}"));
        var cut = await ExpectAsync(admin.GetAsync($"v2.0/ports?network_id={networkId}&device_owner=&fields=id&fields=name"), HttpStatusCode.OK);
        Assert.All(cut["ports"]!.AsArray(), p => Assert.Equal(["id", "name"], p!.AsObject().Select(a => a.Key).Order()));
        Assert.Empty(await Names("name=no-such-port"));

        // Sorted and paged: a next link while more remain, previous once past the first page.
        var sorted = names.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Enumerable.Reverse(sorted), await Names("sort_key=name&sort_dir=desc"));
        Assert.Equal(sorted[..2], await Names("sort_key=name&sort_dir=asc&limit=2", links: "next"));
        var second = await ExpectAsync(admin.GetAsync($"v2.0/ports?network_id={networkId}&device_owner=&sort_key=name&sort_dir=asc&limit=2&marker=" +
            (await ExpectAsync(admin.GetAsync($"v2.0/ports?network_id={networkId}&name={sorted[1]}"), HttpStatusCode.OK))["ports"]![0]!["id"]), HttpStatusCode.OK);
        Assert.Equal(sorted[2..4], second["ports"]!.AsArray().Select(p => (string)p!["name"]!));
        Assert.Equal(["next", "previous"], second["ports_links"]!.AsArray().Select(l => (string?)l!["rel"]));

        // Bad queries are refused before anything is written.
        await ExpectAsync(admin.GetAsync("v2.0/ports?colour=blue"), HttpStatusCode.BadRequest);
        await ExpectAsync(admin.GetAsync("v2.0/ports?sort_key=name&sort_dir=sideways"), HttpStatusCode.BadRequest);
        await ExpectAsync(admin.GetAsync("v2.0/ports?limit=-1"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Bad_input_gets_Neutrons_errors_and_makes_nothing()
    {
        var admin = net.Admin();
        var n = await ExpectAsync(admin.PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = Name("bad") } }), HttpStatusCode.Created);
        var networkId = (string)n["network"]!["id"]!;
        JsonObject Subnet(string cidr) => new() { ["subnet"] = new JsonObject { ["network_id"] = networkId, ["ip_version"] = 4, ["cidr"] = cidr } };
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/subnets", Subnet("10.30.0.0/33")), HttpStatusCode.BadRequest);
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/subnets", Subnet("10.30.0.5/24")), HttpStatusCode.BadRequest);
        var subnet = await ExpectAsync(admin.PostAsJsonAsync("v2.0/subnets", Subnet("10.30.0.0/24")), HttpStatusCode.Created);
        var subnetId = (string)subnet["subnet"]!["id"]!;
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/subnets", Subnet("10.30.0.128/25")), HttpStatusCode.BadRequest, "InvalidInput");
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["colour"] = "blue" } }), HttpStatusCode.BadRequest);
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/ports", new JsonObject
        {
            ["port"] = new JsonObject { ["network_id"] = networkId, ["fixed_ips"] = new JsonArray(new JsonObject { ["subnet_id"] = subnetId, ["ip_address"] = "10.31.0.9" }) },
        }), HttpStatusCode.BadRequest, "InvalidIpForSubnet");
        var port = await ExpectAsync(admin.PostAsJsonAsync("v2.0/ports", new JsonObject { ["port"] = new JsonObject { ["network_id"] = networkId } }), HttpStatusCode.Created);
        var mac = (string)port["port"]!["mac_address"]!;
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/ports", new JsonObject { ["port"] = new JsonObject { ["network_id"] = networkId, ["mac_address"] = mac } }),
            HttpStatusCode.Conflict, "MacAddressInUse");
        await ExpectAsync(admin.DeleteAsync($"v2.0/networks/{networkId}"), HttpStatusCode.Conflict, "NetworkInUse");
        await ExpectAsync(admin.PostAsync("v2.0/ports", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        // Nothing half-made: the network has exactly its one subnet and one port.
        var ports = await ExpectAsync(admin.GetAsync($"v2.0/ports?network_id={networkId}"), HttpStatusCode.OK);
        Assert.Single(ports["ports"]!.AsArray());
        var shown = await ExpectAsync(admin.GetAsync($"v2.0/networks/{networkId}"), HttpStatusCode.OK);
        Assert.Single(shown["network"]!["subnets"]!.AsArray());
    }

    [Fact]
    public async Task Projects_see_their_own_networks_and_members_cannot_set_admin_attributes()
    {
        var (alice, aliceProject) = await net.MemberAsync();
        var (bob, _) = await net.MemberAsync();
        var n = await ExpectAsync(alice.PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = Name("alice") } }), HttpStatusCode.Created);
        var network = n["network"]!.AsObject();
        Assert.Equal(aliceProject, (string?)network["project_id"]);
        // Provider attributes are the admin's to see (get_network:provider:* rules).
        Assert.False(network.ContainsKey("provider:network_type"));
        await ExpectAsync(bob.GetAsync($"v2.0/networks/{(string)network["id"]!}"), HttpStatusCode.NotFound, "NetworkNotFound");
        var bobs = await ExpectAsync(bob.GetAsync("v2.0/networks"), HttpStatusCode.OK);
        Assert.DoesNotContain(bobs["networks"]!.AsArray(), x => (string?)x!["id"] == (string?)network["id"]);
        await ExpectAsync(alice.PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["shared"] = true } }),
            HttpStatusCode.Forbidden, "PolicyNotAuthorized");
        // A shared network is visible to every project.
        var shared = await ExpectAsync(net.Admin().PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = Name("shared"), ["shared"] = true } }), HttpStatusCode.Created);
        await ExpectAsync(bob.GetAsync($"v2.0/networks/{(string)shared["network"]!["id"]!}"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_port_bound_to_a_host_without_a_live_agent_fails_to_bind_and_each_project_gets_one_default_group()
    {
        var (alice, _) = await net.MemberAsync();
        var n = await ExpectAsync(alice.PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = Name("bind") } }), HttpStatusCode.Created);
        var networkId = (string)n["network"]!["id"]!;
        var ports = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            ExpectAsync(alice.PostAsJsonAsync("v2.0/ports", new JsonObject { ["port"] = new JsonObject { ["network_id"] = networkId } }), HttpStatusCode.Created)));
        var groups = ports.Select(p => p["port"]!["security_groups"]!.AsArray().Select(g => (string?)g).Single()).Distinct().ToList();
        Assert.Single(groups);
        var portId = (string)ports[0]["port"]!["id"]!;
        var bound = await ExpectAsync(net.Admin().PutAsJsonAsync($"v2.0/ports/{portId}", new JsonObject { ["port"] = new JsonObject { ["binding:host_id"] = "compute-nowhere" } }), HttpStatusCode.OK);
        Assert.Equal("binding_failed", (string?)bound["port"]!["binding:vif_type"]);
        Assert.Equal("compute-nowhere", (string?)bound["port"]!["binding:host_id"]);
    }

    [Fact]
    public async Task Concurrent_and_bulk_network_creates_each_get_a_segment_of_their_own()
    {
        var admin = net.Admin();
        var singles = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            ExpectAsync(admin.PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = Name("par") } }), HttpStatusCode.Created)));
        var bulk = await ExpectAsync(admin.PostAsJsonAsync("v2.0/networks", new JsonObject
        {
            ["networks"] = new JsonArray([.. Enumerable.Range(0, 3).Select(_ => (JsonNode)new JsonObject { ["name"] = Name("bulk") })]),
        }), HttpStatusCode.Created);
        var vnis = singles.Select(s => (int)s["network"]!["provider:segmentation_id"]!)
            .Concat(bulk["networks"]!.AsArray().Select(n => (int)n!["provider:segmentation_id"]!)).ToList();
        Assert.Equal(11, vnis.Count);
        Assert.Equal(vnis.Count, vnis.Distinct().Count());
    }

    [Fact]
    public async Task Paths_take_a_json_suffix_and_an_external_network_deletes_with_its_floating_ips()
    {
        var admin = net.Admin();
        Assert.True((await ExpectAsync(admin.GetAsync("v2.0/networks.json"), HttpStatusCode.OK)).ContainsKey("networks"));
        var n = await ExpectAsync(admin.PostAsJsonAsync("v2.0/networks", new JsonObject
        {
            ["network"] = new JsonObject { ["name"] = Name("ext"), ["router:external"] = true },
        }), HttpStatusCode.Created);
        var networkId = (string)n["network"]!["id"]!;
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/subnets", new JsonObject
        {
            ["subnet"] = new JsonObject { ["network_id"] = networkId, ["ip_version"] = 4, ["cidr"] = "10.40.0.0/24", ["enable_dhcp"] = false },
        }), HttpStatusCode.Created);
        var fip = await ExpectAsync(admin.PostAsJsonAsync("v2.0/floatingips", new JsonObject { ["floatingip"] = new JsonObject { ["floating_network_id"] = networkId } }),
            HttpStatusCode.Created);
        await ExpectAsync(admin.DeleteAsync($"v2.0/networks/{networkId}"), HttpStatusCode.NoContent);
        await ExpectAsync(admin.GetAsync($"v2.0/floatingips/{(string)fip["floatingip"]!["id"]!}"), HttpStatusCode.NotFound);
        Assert.Empty((await ExpectAsync(admin.GetAsync($"v2.0/ports?network_id={networkId}"), HttpStatusCode.OK))["ports"]!.AsArray());
    }
}
