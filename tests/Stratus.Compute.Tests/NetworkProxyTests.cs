using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using static Stratus.Testing.NeutronCalls;

namespace Stratus.Compute.Tests;

/// <summary>
/// Compute's network-facing APIs against a real network service with a live Linux bridge agent: the 2.1-2.35
/// proxies (os-networks, os-tenant-networks, os-security-groups and their rules, os-floating-ips and their pools),
/// a server's security groups and floating IPs, and what the openstack CLI does with them.
/// </summary>
public sealed class NetworkProxyTests(NetworkedRegionServer region) : IClassFixture<NetworkedRegionServer>
{
    sealed record User(HttpClient Compute, HttpClient Proxy, HttpClient Network, HttpClient Image, string ProjectId);

    /// <summary>A member of a new project: compute at <paramref name="microversion"/> and at 2.1 (the proxies), the network and image APIs.</summary>
    async Task<User> UserAsync(string microversion = "2.37")
    {
        var (compute, image, project) = await region.NewComputeUserAsync(microversion);
        var token = compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        return new User(compute, region.ComputeClient(token, "2.1"), region.NetworkClient(token), image, project);
    }

    static async Task<(HttpStatusCode Status, JsonObject Body)> SendAsync(HttpClient client, HttpMethod method, string path, JsonObject? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        var r = await client.SendAsync(request);
        var text = await r.Content.ReadAsStringAsync();
        return (r.StatusCode, text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject());
    }

    /// <summary>A compute error: its status and Nova's message under the fault's key.</summary>
    static async Task<string> FaultAsync(HttpClient client, HttpMethod method, string path, JsonObject? body, HttpStatusCode expected)
    {
        var (status, answer) = await SendAsync(client, method, path, body);
        Assert.True(status == expected, $"{method} {path}: expected {(int)expected}, got {(int)status}: {answer.ToJsonString()}");
        return (string)answer.Single().Value!["message"]!;
    }

    static JsonObject Action(string name, JsonObject args) => new() { [name] = args };

    async Task<string> ServerAsync(User user, string networkId, JsonArray? securityGroups = null)
    {
        var server = new JsonObject
        {
            ["name"] = Name("vm"), ["imageRef"] = await region.NewImageAsync(user.Image), ["flavorRef"] = await region.NewFlavorAsync(),
            ["networks"] = new JsonArray(new JsonObject { ["uuid"] = networkId }),
        };
        if (securityGroups is not null) server["security_groups"] = securityGroups;
        var created = await user.Compute.PostJsonAsync("servers", new JsonObject { ["server"] = server }, 202);
        var id = (string)created["server"]!["id"]!;
        var shown = await ComputeServer.WaitForServerAsync(user.Compute, id, s => (string?)s["status"] is "ACTIVE" or "ERROR");
        Assert.Equal("ACTIVE", (string?)shown["status"]);
        return id;
    }

    static async Task<JsonObject> PortOfAsync(HttpClient network, string serverId) =>
        Assert.Single((await network.GetFromJsonAsync<JsonObject>($"v2.0/ports?device_id={serverId}"))!["ports"]!.AsArray())!.AsObject();

    static string[] Groups(JsonObject port) => [.. port["security_groups"]!.AsArray().Select(g => (string)g!).Order()];

    [Fact]
    public async Task Security_groups_and_rules_made_through_compute_are_the_network_services_shown_as_Nova_shows_them()
    {
        var user = await UserAsync();
        var web = (await user.Proxy.PostJsonAsync("os-security-groups", new JsonObject
        {
            ["security_group"] = new JsonObject { ["name"] = "web", ["description"] = "web servers" },
        }, 200))["security_group"]!.AsObject();
        var webId = (string)web["id"]!;
        Assert.Equal(("web", "web servers", user.ProjectId), ((string?)web["name"], (string?)web["description"], (string?)web["tenant_id"]));
        // A new group's egress rules are not Nova's (ingress only).
        Assert.Empty(web["rules"]!.AsArray());
        var inNeutron = (await user.Network.GetFromJsonAsync<JsonObject>($"v2.0/security-groups/{webId}"))!["security_group"]!;
        Assert.Equal(("web", "web servers", user.ProjectId), ((string?)inNeutron["name"], (string?)inNeutron["description"], (string?)inNeutron["project_id"]));

        JsonObject RuleBody(JsonObject rule) => new() { ["security_group_rule"] = rule };
        var ssh = (await user.Proxy.PostJsonAsync("os-security-group-rules", RuleBody(new JsonObject
        {
            ["parent_group_id"] = webId, ["ip_protocol"] = "tcp", ["from_port"] = 22, ["to_port"] = 22,
        }), 200))["security_group_rule"]!.AsObject();
        Assert.Equal((webId, "tcp", 22, 22), ((string?)ssh["parent_group_id"], (string?)ssh["ip_protocol"], (int)ssh["from_port"]!, (int)ssh["to_port"]!));
        Assert.Equal("0.0.0.0/0", (string?)ssh["ip_range"]!["cidr"]);
        Assert.Empty(ssh["group"]!.AsObject());
        var sshInNeutron = (await user.Network.GetFromJsonAsync<JsonObject>($"v2.0/security-group-rules/{(string)ssh["id"]!}"))!["security_group_rule"]!;
        Assert.Equal(("ingress", "IPv4", "tcp", 22, 22, "0.0.0.0/0"), ((string?)sshInNeutron["direction"], (string?)sshInNeutron["ethertype"],
            (string?)sshInNeutron["protocol"], (int)sshInNeutron["port_range_min"]!, (int)sshInNeutron["port_range_max"]!, (string?)sshInNeutron["remote_ip_prefix"]));

        Assert.Equal($"This rule already exists in group {webId}", await FaultAsync(user.Proxy, HttpMethod.Post, "os-security-group-rules", RuleBody(new JsonObject
        {
            ["parent_group_id"] = webId, ["ip_protocol"] = "tcp", ["from_port"] = 22, ["to_port"] = 22,
        }), HttpStatusCode.BadRequest));
        Assert.Equal("Invalid port range 22:21. Former value cannot be greater than the later", await FaultAsync(user.Proxy, HttpMethod.Post,
            "os-security-group-rules", RuleBody(new JsonObject { ["parent_group_id"] = webId, ["ip_protocol"] = "tcp", ["from_port"] = 22, ["to_port"] = 21 }),
            HttpStatusCode.BadRequest));
        Assert.Equal("Not enough parameters to build a valid rule.", await FaultAsync(user.Proxy, HttpMethod.Post, "os-security-group-rules",
            RuleBody(new JsonObject { ["parent_group_id"] = webId, ["ip_protocol"] = "icmp" }), HttpStatusCode.BadRequest));
        Assert.Equal("Invalid IP protocol gre.", await FaultAsync(user.Proxy, HttpMethod.Post, "os-security-group-rules",
            RuleBody(new JsonObject { ["parent_group_id"] = webId, ["ip_protocol"] = "gre", ["from_port"] = 1, ["to_port"] = 2 }), HttpStatusCode.BadRequest));
        Assert.Equal("Security group id should be uuid", await FaultAsync(user.Proxy, HttpMethod.Post, "os-security-group-rules",
            RuleBody(new JsonObject { ["parent_group_id"] = "web", ["ip_protocol"] = "tcp", ["from_port"] = 1, ["to_port"] = 2 }), HttpStatusCode.BadRequest));
        await FaultAsync(user.Proxy, HttpMethod.Post, "os-security-group-rules", RuleBody(new JsonObject
        {
            ["parent_group_id"] = Guid.NewGuid().ToString(), ["ip_protocol"] = "tcp", ["from_port"] = 1, ["to_port"] = 2,
        }), HttpStatusCode.NotFound);

        // ICMP of any type from a network: Neutron has no ports, Nova shows -1.
        var ping = (await user.Proxy.PostJsonAsync("os-security-group-rules", RuleBody(new JsonObject
        {
            ["parent_group_id"] = webId, ["ip_protocol"] = "icmp", ["from_port"] = -1, ["to_port"] = -1, ["cidr"] = "10.0.0.0/8",
        }), 200))["security_group_rule"]!.AsObject();
        Assert.Equal((-1, -1, "10.0.0.0/8"), ((int)ping["from_port"]!, (int)ping["to_port"]!, (string?)ping["ip_range"]!["cidr"]));
        var pingInNeutron = (await user.Network.GetFromJsonAsync<JsonObject>($"v2.0/security-group-rules/{(string)ping["id"]!}"))!["security_group_rule"]!;
        Assert.Null(pingInNeutron["port_range_min"]);
        Assert.Equal("icmp", (string?)pingInNeutron["protocol"]);

        // From another group: TCP without ports is all of them, the source shown by name and project.
        var db = (await user.Proxy.PostJsonAsync("os-security-groups", new JsonObject
        {
            ["security_group"] = new JsonObject { ["name"] = "db", ["description"] = "" },
        }, 200))["security_group"]!.AsObject();
        var fromDb = (await user.Proxy.PostJsonAsync("os-security-group-rules", RuleBody(new JsonObject
        {
            ["parent_group_id"] = webId, ["ip_protocol"] = "tcp", ["group_id"] = (string)db["id"]!,
        }), 200))["security_group_rule"]!.AsObject();
        Assert.Equal((1, 65535), ((int)fromDb["from_port"]!, (int)fromDb["to_port"]!));
        Assert.Equal(("db", user.ProjectId), ((string?)fromDb["group"]!["name"], (string?)fromDb["group"]!["tenant_id"]));
        Assert.Empty(fromDb["ip_range"]!.AsObject());

        var shown = (await user.Proxy.GetFromJsonAsync<JsonObject>($"os-security-groups/{webId}"))!["security_group"]!;
        Assert.Equal(3, shown["rules"]!.AsArray().Count);
        var listed = (await user.Proxy.GetFromJsonAsync<JsonObject>("os-security-groups"))!["security_groups"]!.AsArray();
        // The project's default group is there too, and the list is sorted by project and name.
        Assert.Equal(["db", "default", "web"], listed.Select(g => (string)g!["name"]!).ToArray());
        Assert.Equal(2, (await user.Proxy.GetFromJsonAsync<JsonObject>("os-security-groups?limit=2"))!["security_groups"]!.AsArray().Count);

        var renamed = (await user.Proxy.PutAsJsonAsync($"os-security-groups/{webId}", new JsonObject
        {
            ["security_group"] = new JsonObject { ["name"] = "www", ["description"] = "renamed" },
        }));
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("www", (string?)(await user.Network.GetFromJsonAsync<JsonObject>($"v2.0/security-groups/{webId}"))!["security_group"]!["name"]);
        Assert.Equal("name is not a string or unicode", await FaultAsync(user.Proxy, HttpMethod.Put, $"os-security-groups/{webId}",
            new JsonObject { ["security_group"] = new JsonObject { ["description"] = "x" } }, HttpStatusCode.BadRequest));

        Assert.Equal(HttpStatusCode.Accepted, (await user.Proxy.DeleteAsync($"os-security-group-rules/{(string)ssh["id"]!}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await user.Network.GetAsync($"v2.0/security-group-rules/{(string)ssh["id"]!}")).StatusCode);
        Assert.Equal("Security group id should be uuid", await FaultAsync(user.Proxy, HttpMethod.Get, "os-security-groups/web", null, HttpStatusCode.BadRequest));
        await FaultAsync(user.Proxy, HttpMethod.Get, $"os-security-groups/{Guid.NewGuid()}", null, HttpStatusCode.NotFound);
        await FaultAsync(user.Proxy, HttpMethod.Delete, "os-security-groups/", null, HttpStatusCode.NotFound);
        // The project's default group cannot go: Neutron's 409 is Nova's 400.
        var defaultId = (string)listed.Single(g => (string?)g!["name"] == "default")!["id"]!;
        await FaultAsync(user.Proxy, HttpMethod.Delete, $"os-security-groups/{defaultId}", null, HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.Accepted, (await user.Proxy.DeleteAsync($"os-security-groups/{(string)db["id"]!}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await user.Network.GetAsync($"v2.0/security-groups/{(string)db["id"]!}")).StatusCode);

        // The proxies end at 2.35.
        Assert.Equal("The resource could not be found.", await FaultAsync(region.ComputeClient(Token(user), "2.36"),
            HttpMethod.Get, "os-security-groups", null, HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task A_servers_security_groups_are_its_ports_from_create_through_add_and_remove()
    {
        var user = await UserAsync();
        var (networkId, _) = await NetworkWithSubnetAsync(user.Network, "10.91.0.0/24");
        var web = await ExpectAsync(user.Network.PostAsJsonAsync("v2.0/security-groups", new JsonObject
        {
            ["security_group"] = new JsonObject { ["name"] = "web" },
        }), HttpStatusCode.Created);
        var webId = (string)web["security_group"]!["id"]!;
        var defaultId = (string)(await user.Network.GetFromJsonAsync<JsonObject>($"v2.0/security-groups?name=default&project_id={user.ProjectId}"))!
            ["security_groups"]![0]!["id"]!;

        Assert.Equal("Unable to find security_group with name or id 'nope'", await FaultAsync(user.Compute, HttpMethod.Post, "servers", new JsonObject
        {
            ["server"] = new JsonObject
            {
                ["name"] = "s", ["imageRef"] = await region.NewImageAsync(user.Image), ["flavorRef"] = await region.NewFlavorAsync(),
                ["networks"] = "none", ["security_groups"] = new JsonArray(new JsonObject { ["name"] = "nope" }),
            },
        }, HttpStatusCode.BadRequest));

        var id = await ServerAsync(user, networkId, new JsonArray(new JsonObject { ["name"] = "web" }));
        // The port compute made has the group asked for, and not the project's default.
        Assert.Equal([webId], Groups(await PortOfAsync(user.Network, id)));
        var shown = (await user.Compute.GetFromJsonAsync<JsonObject>($"servers/{id}"))!["server"]!;
        Assert.Equal("web", (string?)Assert.Single(shown["security_groups"]!.AsArray())!["name"]);
        var detail = (await user.Compute.GetFromJsonAsync<JsonObject>("servers/detail"))!["servers"]!.AsArray().Single(s => (string?)s!["id"] == id)!;
        Assert.Equal("web", (string?)Assert.Single(detail["security_groups"]!.AsArray())!["name"]);
        var ofServer = (await user.Compute.GetFromJsonAsync<JsonObject>($"servers/{id}/os-security-groups"))!["security_groups"]!.AsArray();
        Assert.Equal(webId, (string?)Assert.Single(ofServer)!["id"]);

        Assert.Equal(HttpStatusCode.Accepted, (await user.Compute.PostAsJsonAsync($"servers/{id}/action",
            Action("addSecurityGroup", new JsonObject { ["name"] = "default" }))).StatusCode);
        Assert.Equal(new[] { defaultId, webId }.Order(), Groups(await PortOfAsync(user.Network, id)));
        shown = (await user.Compute.GetFromJsonAsync<JsonObject>($"servers/{id}"))!["server"]!;
        Assert.Equal(["default", "web"], shown["security_groups"]!.AsArray().Select(g => (string)g!["name"]!).Order().ToArray());

        // In use by the server's port: Neutron's 409 is Nova's 400.
        Assert.Contains("in use", await FaultAsync(user.Proxy, HttpMethod.Delete, $"os-security-groups/{webId}", null, HttpStatusCode.BadRequest));

        Assert.Equal(HttpStatusCode.Accepted, (await user.Compute.PostAsJsonAsync($"servers/{id}/action",
            Action("removeSecurityGroup", new JsonObject { ["name"] = "web" }))).StatusCode);
        Assert.Equal([defaultId], Groups(await PortOfAsync(user.Network, id)));
        Assert.Equal($"Security group web not associated with the instance {id}", await FaultAsync(user.Compute, HttpMethod.Post, $"servers/{id}/action",
            Action("removeSecurityGroup", new JsonObject { ["name"] = "web" }), HttpStatusCode.NotFound));
        Assert.Equal($"Security group nope is not found for project {user.ProjectId}", await FaultAsync(user.Compute, HttpMethod.Post, $"servers/{id}/action",
            Action("addSecurityGroup", new JsonObject { ["name"] = "nope" }), HttpStatusCode.NotFound));
        Assert.Equal("Security group name cannot be empty", await FaultAsync(user.Compute, HttpMethod.Post, $"servers/{id}/action",
            Action("addSecurityGroup", new JsonObject { ["name"] = " " }), HttpStatusCode.BadRequest));
        // Now unused, the group can go.
        Assert.Equal(HttpStatusCode.Accepted, (await user.Proxy.DeleteAsync($"os-security-groups/{webId}")).StatusCode);

        var portless = (string)(await user.Compute.PostJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject
            {
                ["name"] = "portless", ["imageRef"] = await region.NewImageAsync(user.Image), ["flavorRef"] = await region.NewFlavorAsync(), ["networks"] = "none",
            },
        }, 202))["server"]!["id"]!;
        await ComputeServer.WaitForServerAsync(user.Compute, portless, s => (string?)s["status"] == "ACTIVE");
        Assert.Equal($"instance_id {portless} could not be found as device id on any ports", await FaultAsync(user.Compute, HttpMethod.Post,
            $"servers/{portless}/action", Action("addSecurityGroup", new JsonObject { ["name"] = "default" }), HttpStatusCode.NotFound));
        Assert.Null((await user.Compute.GetFromJsonAsync<JsonObject>($"servers/{portless}"))!["server"]!["security_groups"]);
    }

    [Fact]
    public async Task Floating_ips_come_from_a_pool_and_follow_a_servers_fixed_ip_through_compute()
    {
        var admin = region.NetworkClient(region.Identity.AdminToken);
        var (externalId, _) = await NetworkWithSubnetAsync(admin, "172.25.0.0/24", external: true);
        var externalName = (string)(await admin.GetFromJsonAsync<JsonObject>($"v2.0/networks/{externalId}"))!["network"]!["name"]!;
        var user = await UserAsync();
        var (networkId, subnetId) = await NetworkWithSubnetAsync(user.Network, "10.92.0.0/24");
        var router = await ExpectAsync(user.Network.PostAsJsonAsync("v2.0/routers", new JsonObject
        {
            ["router"] = new JsonObject { ["name"] = Name("r"), ["external_gateway_info"] = new JsonObject { ["network_id"] = externalId } },
        }), HttpStatusCode.Created);
        await ExpectAsync(user.Network.PutAsJsonAsync($"v2.0/routers/{(string)router["router"]!["id"]!}/add_router_interface",
            new JsonObject { ["subnet_id"] = subnetId }), HttpStatusCode.OK);
        var id = await ServerAsync(user, networkId);
        var port = await PortOfAsync(user.Network, id);
        var fixedIp = (string)port["fixed_ips"]![0]!["ip_address"]!;
        // Nova's ip filter: a regular expression matched from the start of a fixed address.
        async Task<string[]> ListedAsync(string query) =>
            [.. (await user.Compute.GetFromJsonAsync<JsonObject>("servers?" + query))!["servers"]!.AsArray().Select(s => (string)s!["id"]!)];
        Assert.Equal([id], await ListedAsync("ip=" + Uri.EscapeDataString(fixedIp)));
        Assert.Equal([id], await ListedAsync("ip=10%5C.92%5C."));
        Assert.Empty(await ListedAsync("ip=92"));
        Assert.Empty(await ListedAsync("ip6=10.92"));

        var pools = (await user.Proxy.GetFromJsonAsync<JsonObject>("os-floating-ip-pools"))!["floating_ip_pools"]!.AsArray();
        Assert.Contains(externalName, pools.Select(p => (string?)p!["name"]));
        Assert.Equal("Floating IP pool not found.", await FaultAsync(user.Proxy, HttpMethod.Post, "os-floating-ips",
            new JsonObject { ["pool"] = "no-such-pool" }, HttpStatusCode.NotFound));
        var fip = (await user.Proxy.PostJsonAsync("os-floating-ips", new JsonObject { ["pool"] = externalName }, 200))["floating_ip"]!.AsObject();
        var (fipId, address) = ((string)fip["id"]!, (string)fip["ip"]!);
        Assert.StartsWith("172.25.0.", address);
        Assert.Equal(externalName, (string?)fip["pool"]);
        Assert.Null(fip["instance_id"]);
        Assert.Null(fip["fixed_ip"]);
        Assert.Contains(fipId, (await user.Proxy.GetFromJsonAsync<JsonObject>("os-floating-ips"))!["floating_ips"]!.AsArray().Select(f => (string?)f!["id"]));

        Assert.Equal(HttpStatusCode.Accepted, (await user.Proxy.PostAsJsonAsync($"servers/{id}/action",
            Action("addFloatingIp", new JsonObject { ["address"] = address }))).StatusCode);
        var inNeutron = (await user.Network.GetFromJsonAsync<JsonObject>($"v2.0/floatingips/{fipId}"))!["floatingip"]!;
        Assert.Equal(((string?)port["id"], fixedIp), ((string?)inNeutron["port_id"], (string?)inNeutron["fixed_ip_address"]));
        fip = (await user.Proxy.GetFromJsonAsync<JsonObject>($"os-floating-ips/{fipId}"))!["floating_ip"]!.AsObject();
        Assert.Equal((id, fixedIp), ((string?)fip["instance_id"], (string?)fip["fixed_ip"]));
        // The network service tells compute (network-changed), and the server's addresses show the floating IP after its fixed one.
        var shown = await ComputeServer.WaitForServerAsync(user.Compute, id, s => s["addresses"]!.ToJsonString().Contains(address));
        var addresses = shown["addresses"]!.AsObject().Single().Value!.AsArray();
        Assert.Equal([(fixedIp, "fixed"), (address, "floating")], addresses.Select(a => ((string)a!["addr"]!, (string)a["OS-EXT-IPS:type"]!)).ToArray());
        Assert.Equal((string?)port["mac_address"], (string?)addresses[1]!["OS-EXT-IPS-MAC:mac_addr"]);
        // /ips has them too, without the extended attributes (as Nova's address view builder without extend_address).
        var ips = (await user.Compute.GetFromJsonAsync<JsonObject>($"servers/{id}/ips"))!["addresses"]!.AsObject().Single().Value!.AsArray();
        Assert.Equal($$"""[{"version":4,"addr":"{{fixedIp}}"},{"version":4,"addr":"{{address}}"}]""", ips.ToJsonString());

        // The port has its floating IP: a second one is Neutron's conflict, Nova's 400.
        var second = (string)(await user.Proxy.PostJsonAsync("os-floating-ips", new JsonObject { ["pool"] = externalId }, 200))["floating_ip"]!["ip"]!;
        await FaultAsync(user.Proxy, HttpMethod.Post, $"servers/{id}/action", Action("addFloatingIp", new JsonObject { ["address"] = second }), HttpStatusCode.BadRequest);
        Assert.Equal("Specified fixed address not assigned to instance", await FaultAsync(user.Proxy, HttpMethod.Post, $"servers/{id}/action",
            Action("addFloatingIp", new JsonObject { ["address"] = second, ["fixed_address"] = "10.92.0.250" }), HttpStatusCode.BadRequest));
        Assert.Equal("floating IP not found", await FaultAsync(user.Proxy, HttpMethod.Post, $"servers/{id}/action",
            Action("addFloatingIp", new JsonObject { ["address"] = "0.0.0.0" }), HttpStatusCode.NotFound));
        await FaultAsync(user.Proxy, HttpMethod.Post, $"servers/{id}/action", Action("addFloatingIp", new JsonObject { ["address"] = "" }), HttpStatusCode.BadRequest);
        // The actions end at 2.43.
        await FaultAsync(region.ComputeClient(Token(user), "2.44"), HttpMethod.Post, $"servers/{id}/action",
            Action("addFloatingIp", new JsonObject { ["address"] = second }), HttpStatusCode.NotFound);

        Assert.Equal(HttpStatusCode.Accepted, (await user.Proxy.PostAsJsonAsync($"servers/{id}/action",
            Action("removeFloatingIp", new JsonObject { ["address"] = address }))).StatusCode);
        Assert.Null((await user.Network.GetFromJsonAsync<JsonObject>($"v2.0/floatingips/{fipId}"))!["floatingip"]!["port_id"]);
        await ComputeServer.WaitForServerAsync(user.Compute, id, s => !s["addresses"]!.ToJsonString().Contains(address));
        Assert.Equal($"Floating IP {address} is not associated with instance {id}.", await FaultAsync(user.Proxy, HttpMethod.Post, $"servers/{id}/action",
            Action("removeFloatingIp", new JsonObject { ["address"] = address }), HttpStatusCode.Conflict));

        Assert.Equal(HttpStatusCode.Accepted, (await user.Proxy.DeleteAsync($"os-floating-ips/{fipId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await user.Network.GetAsync($"v2.0/floatingips/{fipId}")).StatusCode);
        Assert.Equal($"Floating IP not found for ID {fipId}", await FaultAsync(user.Proxy, HttpMethod.Get, $"os-floating-ips/{fipId}", null, HttpStatusCode.NotFound));
        await FaultAsync(region.ComputeClient(Token(user), "2.36"), HttpMethod.Get, "os-floating-ips", null, HttpStatusCode.NotFound);
    }

    static string Token(User user) => user.Network.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();

    [Fact]
    public async Task Networks_are_shown_in_nova_networks_shape_and_what_left_with_nova_network_is_gone()
    {
        var user = await UserAsync();
        var (networkId, _) = await NetworkWithSubnetAsync(user.Network, "10.93.0.0/24");
        var name = (string)(await user.Network.GetFromJsonAsync<JsonObject>($"v2.0/networks/{networkId}"))!["network"]!["name"]!;
        var mine = (await user.Proxy.GetFromJsonAsync<JsonObject>("os-networks"))!["networks"]!.AsArray().Single(n => (string?)n!["id"] == networkId)!.AsObject();
        Assert.Equal(name, (string?)mine["label"]);
        Assert.Equal(11, mine.Count);
        Assert.Null(mine["cidr"]);
        var asAdmin = (await region.ComputeClient(region.Identity.AdminToken, "2.1").GetFromJsonAsync<JsonObject>($"os-networks/{networkId}"))!["network"]!.AsObject();
        Assert.Equal(32, asAdmin.Count);
        Assert.True(asAdmin.ContainsKey("mtu"));
        Assert.Equal("Network not found", await FaultAsync(user.Proxy, HttpMethod.Get, $"os-networks/{Guid.NewGuid()}", null, HttpStatusCode.NotFound));

        var tenant = (await user.Proxy.GetFromJsonAsync<JsonObject>("os-tenant-networks"))!["networks"]!.AsArray().Single(n => (string?)n!["id"] == networkId)!;
        Assert.Equal((name, "None"), ((string?)tenant["label"], (string?)tenant["cidr"]));
        Assert.Equal(networkId, (string?)(await user.Proxy.GetFromJsonAsync<JsonObject>($"os-tenant-networks/{networkId}"))!["network"]!["id"]);
        await FaultAsync(region.ComputeClient(Token(user), "2.36"), HttpMethod.Get, "os-networks", null, HttpStatusCode.NotFound);

        foreach (var (method, path) in new[] { (HttpMethod.Post, "os-networks"), (HttpMethod.Delete, $"os-networks/{networkId}"), (HttpMethod.Post, "os-tenant-networks"),
            (HttpMethod.Get, "os-security-group-default-rules"), (HttpMethod.Get, "os-floating-ips-bulk"), (HttpMethod.Get, "os-fixed-ips/10.93.0.5") })
        {
            var (status, body) = await SendAsync(user.Compute, method, path, method == HttpMethod.Post ? new JsonObject { ["network"] = new JsonObject() } : null);
            Assert.Equal(HttpStatusCode.Gone, status);
            Assert.Equal(410, (int)body["computeFault"]!["code"]!);
        }
    }

    async Task CliAsync(params string[] args) =>
        (await ProcessRunner.RunAsync("openstack", args, region.Identity.AdminEnv())).EnsureSuccess("openstack " + string.Join(' ', args));

    [Fact]
    public async Task The_openstack_CLI_gives_a_server_security_groups_floating_ips_networks_and_ports()
    {
        var admin = region.NetworkClient(region.Identity.AdminToken);
        var compute = region.ComputeClient(region.Identity.AdminToken, "2.1");
        var (externalId, _) = await NetworkWithSubnetAsync(admin, "172.26.0.0/24", external: true);
        var (networkId, subnetId) = await NetworkWithSubnetAsync(admin, "10.94.0.0/24");
        var (otherId, _) = await NetworkWithSubnetAsync(admin, "10.95.0.0/24");
        var router = (string)(await ExpectAsync(admin.PostAsJsonAsync("v2.0/routers", new JsonObject
        {
            ["router"] = new JsonObject { ["name"] = Name("r"), ["external_gateway_info"] = new JsonObject { ["network_id"] = externalId } },
        }), HttpStatusCode.Created))["router"]!["id"]!;
        await ExpectAsync(admin.PutAsJsonAsync($"v2.0/routers/{router}/add_router_interface", new JsonObject { ["subnet_id"] = subnetId }), HttpStatusCode.OK);
        var groupName = Name("web");
        await region.Identity.OpenStackAsync("security", "group", "create", groupName);
        var name = Name("cli");

        var created = await region.Identity.OpenStackAsync("server", "create", "--image", await region.NewImageAsync(region.Admin), "--flavor", await region.NewFlavorAsync(),
            "--network", networkId, "--security-group", groupName, "--wait", name);
        var id = (string)created["id"]!;
        string[] GroupsShown(JsonNode server) => [.. server["security_groups"]!.AsArray().Select(g => (string)g!["name"]!).Order()];
        Assert.Equal([groupName], GroupsShown(await region.Identity.OpenStackAsync("server", "show", name)));

        await CliAsync("server", "add", "security", "group", name, "default");
        Assert.Equal(new[] { "default", groupName }.Order(), GroupsShown(await region.Identity.OpenStackAsync("server", "show", name)));
        await CliAsync("server", "remove", "security", "group", name, groupName);
        Assert.Equal(["default"], GroupsShown(await region.Identity.OpenStackAsync("server", "show", name)));
        var port = await PortOfAsync(admin, id);
        Assert.Single(port["security_groups"]!.AsArray());

        // The CLI associates through the network service, with the server's port.
        var fip = await region.Identity.OpenStackAsync("floating", "ip", "create", externalId);
        var (fipId, address) = ((string)fip["id"]!, (string)fip["floating_ip_address"]!);
        await CliAsync("server", "add", "floating", "ip", name, address);
        var associated = (await admin.GetFromJsonAsync<JsonObject>($"v2.0/floatingips/{fipId}"))!["floatingip"]!;
        Assert.Equal(((string?)port["id"], (string?)port["fixed_ips"]![0]!["ip_address"]), ((string?)associated["port_id"], (string?)associated["fixed_ip_address"]));
        Assert.Equal(id, (string?)(await compute.GetFromJsonAsync<JsonObject>($"os-floating-ips/{fipId}"))!["floating_ip"]!["instance_id"]);
        await ComputeServer.WaitForServerAsync(compute, id, s => s["addresses"]!.ToJsonString().Contains(address));
        Assert.Contains(address, (await region.Identity.OpenStackAsync("server", "list", "--name", name)).AsArray().Single()!["Networks"]!.ToJsonString());
        await CliAsync("server", "remove", "floating", "ip", name, address);
        Assert.Null((await admin.GetFromJsonAsync<JsonObject>($"v2.0/floatingips/{fipId}"))!["floatingip"]!["port_id"]);
        await ComputeServer.WaitForServerAsync(compute, id, s => !s["addresses"]!.ToJsonString().Contains(address));

        // os-interface: a port made on another network, then one of the user's.
        await CliAsync("server", "add", "network", name, otherId);
        var userPort = (string)(await region.Identity.OpenStackAsync("port", "create", "--network", otherId, Name("mine")))["id"]!;
        await CliAsync("server", "add", "port", name, userPort);
        var attached = (await compute.GetFromJsonAsync<JsonObject>($"servers/{id}/os-interface"))!["interfaceAttachments"]!.AsArray();
        Assert.Equal(3, attached.Count);
        Assert.Equal(2, attached.Count(a => (string?)a!["net_id"] == otherId));
        Assert.Contains(userPort, attached.Select(a => (string?)a!["port_id"]));
        var addresses = (await region.Identity.OpenStackAsync("server", "show", name))["addresses"]!.ToJsonString();
        Assert.Contains("10.95.0.", addresses);
        await CliAsync("server", "remove", "port", name, userPort);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((string?)(await admin.GetFromJsonAsync<JsonObject>($"v2.0/ports/{userPort}"))!["port"]!["device_id"] is { Length: > 0 })
        {
            Assert.True(DateTime.UtcNow < deadline, "the removed port was not freed");
            await Task.Delay(100);
        }
        await CliAsync("server", "remove", "network", name, otherId);
        // The host deletes the port it made after the API has answered.
        while ((attached = (await compute.GetFromJsonAsync<JsonObject>($"servers/{id}/os-interface"))!["interfaceAttachments"]!.AsArray()).Count > 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the network's port was not removed");
            await Task.Delay(100);
        }
        Assert.Equal(networkId, (string?)Assert.Single(attached)!["net_id"]);
        Assert.DoesNotContain("10.95.0.", (await region.Identity.OpenStackAsync("server", "show", name))["addresses"]!.ToJsonString());
    }
}
