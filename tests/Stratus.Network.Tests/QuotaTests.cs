using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using static Stratus.Testing.NeutronCalls;

namespace Stratus.Network.Tests;

/// <summary>Quotas through the real openstack CLI, their enforcement on creates, and Neutron's errors over raw HTTP.</summary>
public sealed class QuotaTests(NetworkServer net) : IClassFixture<NetworkServer>
{

    static Task<HttpResponseMessage> PostNetwork(HttpClient c) =>
        c.PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = Name("q") } });

    static Task<HttpResponseMessage> PutQuota(HttpClient c, string project, JsonObject quota) =>
        c.PutAsJsonAsync($"v2.0/quotas/{project}", new JsonObject { ["quota"] = quota });

    /// <summary>
    /// OSC 6.0's <c>quota set</c> builds its compute and volume clients before it looks at what to set,
    /// so the catalog must name them; with network options only it never calls them. The endpoints
    /// point at a closed port of this fixture's own identity.
    /// </summary>
    async Task CatalogNamesComputeAndVolumeAsync()
    {
        var admin = net.Identity.Admin;
        var services = await admin.GetFromJsonAsync<JsonObject>("v3/services?type=compute");
        if (services!["services"]!.AsArray().Count > 0) return;
        foreach (var type in new[] { "compute", "volumev3" })
        {
            var service = await net.Identity.PostAsync("v3/services", new JsonObject { ["service"] = new JsonObject { ["type"] = type, ["name"] = "unused-" + type } });
            await net.Identity.PostAsync("v3/endpoints", new JsonObject
            {
                ["endpoint"] = new JsonObject
                {
                    ["service_id"] = (string)service["service"]!["id"]!, ["interface"] = "public", ["region_id"] = TestNode.Region, ["url"] = "http://127.0.0.1:9/" + type,
                },
            });
        }
    }

    [Fact]
    public async Task The_openstack_CLI_sets_and_lists_a_quota_and_a_network_beyond_it_is_OverQuota()
    {
        var (alice, project) = await net.MemberAsync();
        await CatalogNamesComputeAndVolumeAsync();
        (await ProcessRunner.RunAsync("openstack", ["quota", "set", "--networks", "1", "--ports", "3", project], net.AdminEnv())).EnsureSuccess("quota set");
        var listed = (await net.OpenStackAsync("quota", "list", "--network")).AsArray();
        var mine = listed.Single(q => (string?)q!["Project ID"] == project)!;
        Assert.Equal(1, (int)mine["Networks"]!);
        Assert.Equal(3, (int)mine["Ports"]!);
        Assert.Equal(100, (int)mine["Subnets"]!);

        var first = await ExpectAsync(PostNetwork(alice), HttpStatusCode.Created);
        var over = await ExpectAsync(PostNetwork(alice), HttpStatusCode.Conflict, "OverQuota");
        Assert.Equal("Quota exceeded for resources: ['network'].", (string?)over["NeutronError"]!["message"]);
        var networks = await ExpectAsync(alice.GetAsync("v2.0/networks"), HttpStatusCode.OK);
        Assert.Single(networks["networks"]!.AsArray());

        // Ports count per project: three fit, a bulk of two more does not, and makes none.
        var networkId = (string)first["network"]!["id"]!;
        JsonObject Port() => new() { ["network_id"] = networkId };
        foreach (var _ in Enumerable.Range(0, 2)) await ExpectAsync(alice.PostAsJsonAsync("v2.0/ports", new JsonObject { ["port"] = Port() }), HttpStatusCode.Created);
        await ExpectAsync(alice.PostAsJsonAsync("v2.0/ports", new JsonObject { ["ports"] = new JsonArray(Port(), Port()) }), HttpStatusCode.Conflict, "OverQuota");
        var ports = await ExpectAsync(alice.GetAsync("v2.0/ports"), HttpStatusCode.OK);
        Assert.Equal(2, ports["ports"]!.AsArray().Count);

        var details = (await net.OpenStackAsync("quota", "list", "--network", "--detail", "--project", project)).AsArray();
        var networkUse = details.Single(d => (string?)d!["Resource"] == "networks")!;
        Assert.Equal(1, (int)networkUse["In Use"]!);
        Assert.Equal(1, (int)networkUse["Limit"]!);
        Assert.Equal(0, (int)networkUse["Reserved"]!);
        var raw = await ExpectAsync(alice.GetAsync($"v2.0/quotas/{project}/details"), HttpStatusCode.OK);
        Assert.Equal(2, (int)raw["quota"]!["port"]!["used"]!);

        // Unlimited lifts it.
        (await ProcessRunner.RunAsync("openstack", ["quota", "set", "--networks", "-1", project], net.AdminEnv())).EnsureSuccess("quota set -1");
        await ExpectAsync(PostNetwork(alice), HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_subnet_beyond_the_quota_is_OverQuota_and_a_bulk_network_create_beyond_it_makes_none()
    {
        var (alice, project) = await net.MemberAsync();
        await ExpectAsync(PutQuota(net.Admin(), project, new JsonObject { ["subnet"] = 1, ["network"] = "2" }), HttpStatusCode.OK);
        await ExpectAsync(alice.PostAsJsonAsync("v2.0/networks", new JsonObject
        {
            ["networks"] = new JsonArray(new JsonObject { ["name"] = Name("a") }, new JsonObject { ["name"] = Name("b") }, new JsonObject { ["name"] = Name("c") }),
        }), HttpStatusCode.Conflict, "OverQuota");
        Assert.Empty((await ExpectAsync(alice.GetAsync("v2.0/networks"), HttpStatusCode.OK))["networks"]!.AsArray());
        var n = await ExpectAsync(PostNetwork(alice), HttpStatusCode.Created);
        JsonObject Subnet(string cidr) => new() { ["subnet"] = new JsonObject { ["network_id"] = (string)n["network"]!["id"]!, ["ip_version"] = 4, ["cidr"] = cidr } };
        await ExpectAsync(alice.PostAsJsonAsync("v2.0/subnets", Subnet("10.60.0.0/24")), HttpStatusCode.Created);
        var over = await ExpectAsync(alice.PostAsJsonAsync("v2.0/subnets", Subnet("10.61.0.0/24")), HttpStatusCode.Conflict, "OverQuota");
        Assert.Equal("Quota exceeded for resources: ['subnet'].", (string?)over["NeutronError"]!["message"]);
    }

    [Fact]
    public async Task Quotas_are_the_admins_to_change_and_a_projects_own_to_read()
    {
        var (alice, project) = await net.MemberAsync();
        var (_, other) = await net.MemberAsync();
        var own = await ExpectAsync(alice.GetAsync($"v2.0/quotas/{project}"), HttpStatusCode.OK);
        Assert.Equal(100, (int)own["quota"]!["network"]!);
        Assert.Equal(500, (int)own["quota"]!["port"]!);
        Assert.Equal(10, (int)own["quota"]!["security_group"]!);
        var defaults = await ExpectAsync(alice.GetAsync($"v2.0/quotas/{project}/default"), HttpStatusCode.OK);
        Assert.Equal(100, (int)defaults["quota"]!["security_group_rule"]!);
        var me = await ExpectAsync(alice.GetAsync("v2.0/quotas/project"), HttpStatusCode.OK);
        Assert.Equal(project, (string?)me["project"]!["project_id"]);

        await ExpectAsync(alice.GetAsync($"v2.0/quotas/{other}"), HttpStatusCode.Forbidden, "PolicyNotAuthorized");
        await ExpectAsync(alice.GetAsync($"v2.0/quotas/{other}/details"), HttpStatusCode.Forbidden, "AdminRequired");
        await ExpectAsync(alice.GetAsync("v2.0/quotas"), HttpStatusCode.Forbidden, "PolicyNotAuthorized");
        await ExpectAsync(PutQuota(alice, project, new JsonObject { ["network"] = 1000 }), HttpStatusCode.Forbidden, "PolicyNotAuthorized");
        await ExpectAsync(alice.DeleteAsync($"v2.0/quotas/{project}"), HttpStatusCode.Forbidden, "PolicyNotAuthorized");

        var admin = net.Admin();
        await ExpectAsync(admin.DeleteAsync($"v2.0/quotas/{project}"), HttpStatusCode.NotFound, "TenantQuotaNotFound");
        await ExpectAsync(PutQuota(admin, project, new JsonObject { ["network"] = "lots" }), HttpStatusCode.BadRequest, "InvalidInput");
        await ExpectAsync(PutQuota(admin, project, new JsonObject { ["network"] = -2 }), HttpStatusCode.BadRequest);
        await ExpectAsync(PutQuota(admin, project, new JsonObject { ["volumes"] = 5 }), HttpStatusCode.BadRequest);
        await ExpectAsync(admin.PostAsJsonAsync("v2.0/quotas", new JsonObject { ["quota"] = new JsonObject() }), HttpStatusCode.NotImplemented);
        // Nothing half-set by the refused updates.
        Assert.DoesNotContain((await ExpectAsync(admin.GetAsync("v2.0/quotas"), HttpStatusCode.OK))["quotas"]!.AsArray(), q => (string?)q!["project_id"] == project);

        var set = await ExpectAsync(PutQuota(admin, project, new JsonObject { ["router"] = 3 }), HttpStatusCode.OK);
        Assert.Equal(3, (int)set["quota"]!["router"]!);
        Assert.Equal(100, (int)set["quota"]!["network"]!);
        var all = await ExpectAsync(admin.GetAsync("v2.0/quotas"), HttpStatusCode.OK);
        var mine = all["quotas"]!.AsArray().Single(q => (string?)q!["project_id"] == project)!;
        Assert.Equal(3, (int)mine["router"]!);
        Assert.Equal(project, (string?)mine["tenant_id"]);
        // check_limit refuses a limit below what the project already uses.
        await ExpectAsync(PostNetwork(alice), HttpStatusCode.Created);
        await ExpectAsync(PostNetwork(alice), HttpStatusCode.Created);
        var below = await ExpectAsync(PutQuota(admin, project, new JsonObject { ["network"] = 1, ["check_limit"] = true }), HttpStatusCode.BadRequest);
        Assert.Equal("Quota limit 1 for network must be greater than or equal to already used 2", (string?)below["NeutronError"]!["message"]);
        await ExpectAsync(admin.DeleteAsync($"v2.0/quotas/{project}"), HttpStatusCode.NoContent);
        var back = await ExpectAsync(alice.GetAsync($"v2.0/quotas/{project}"), HttpStatusCode.OK);
        Assert.Equal(10, (int)back["quota"]!["router"]!);
    }
}
