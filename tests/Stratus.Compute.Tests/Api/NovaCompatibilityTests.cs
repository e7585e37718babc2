using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Compute.Tests.Api;

/// <summary>What Tempest's compute tests check, over real HTTP with a real placement and the fake driver.</summary>
public class NovaCompatibilityTests(RegionServer region) : IClassFixture<RegionServer>
{
    async Task<string> FlavorAsync(int ram = 64, int vcpus = 1, int disk = 1)
    {
        var id = "f-" + Guid.NewGuid().ToString("N")[..6];
        await region.ComputeAdmin.PostJsonAsync("flavors", new JsonObject { ["flavor"] = new JsonObject { ["name"] = id, ["id"] = id, ["ram"] = ram, ["vcpus"] = vcpus, ["disk"] = disk } }, 200);
        return id;
    }

    static async Task<JsonObject> WaitAsync(HttpClient c, string id, string status)
    {
        JsonObject server = [];
        for (var i = 0; i < 150; i++)
        {
            server = (await (await c.GetAsync($"servers/{id}")).JsonAsync())["server"]!.AsObject();
            if ((string?)server["status"] == status && server["OS-EXT-STS:task_state"] is null) return server;
            await Task.Delay(100);
        }
        return server;
    }

    async Task<(HttpClient Member, string Id)> ActiveServerAsync(string microversion = "2.1", int ram = 64)
    {
        var (member, image, _) = await region.NewComputeUserAsync(microversion);
        var imageId = await region.NewImageAsync(image);
        var flavor = await FlavorAsync(ram);
        var created = await member.PostJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "nova compat", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["OS-DCF:diskConfig"] = "AUTO" },
        }, 202);
        var server = created["server"]!.AsObject();
        // Nova's create answer: id, links, diskConfig, the password and the security groups asked for ("default" when none); never the name.
        Assert.Equal(["OS-DCF:diskConfig", "adminPass", "id", "links", "security_groups"], server.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("""[{"name":"default"}]""", server["security_groups"]!.ToJsonString());
        Assert.Equal("AUTO", (string?)server["OS-DCF:diskConfig"]);
        var id = (string)server["id"]!;
        Assert.Equal("ACTIVE", (string?)(await WaitAsync(member, id, "ACTIVE"))["status"]);
        return (member, id);
    }

    [Fact]
    public async Task Flavors_take_nova_boolean_strings_and_list_private_ones_only_when_asked()
    {
        var id = "p-" + Guid.NewGuid().ToString("N")[..6];
        await region.ComputeAdmin.PostJsonAsync("flavors", new JsonObject
        {
            ["flavor"] = new JsonObject { ["name"] = id, ["id"] = id, ["ram"] = "64", ["vcpus"] = 1, ["disk"] = 0, ["os-flavor-access:is_public"] = "False" },
        }, 200);
        var listed = await (await region.ComputeAdmin.GetAsync("flavors")).JsonAsync();
        Assert.DoesNotContain(id, listed["flavors"]!.AsArray().Select(f => (string?)f!["id"]));
        var onlyPrivate = await (await region.ComputeAdmin.GetAsync("flavors?is_public=false")).JsonAsync();
        Assert.Contains(id, onlyPrivate["flavors"]!.AsArray().Select(f => (string?)f!["id"]));
        var bad = await region.ComputeAdmin.PostAsJsonAsync("flavors", new JsonObject
        {
            ["flavor"] = new JsonObject { ["name"] = id + "x", ["ram"] = 64, ["vcpus"] = 1, ["disk"] = 0, ["os-flavor-access:is_public"] = "maybe" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.JsonAsync()).ContainsKey("badRequest"));
    }

    [Fact]
    public async Task Quota_sets_show_the_network_quotas_only_before_2_36_and_the_file_quotas_before_2_57()
    {
        var project = Guid.NewGuid().ToString("N");
        var old = (await (await region.ComputeAdmin.GetAsync($"os-quota-sets/{project}")).JsonAsync())["quota_set"]!.AsObject();
        Assert.Equal(-1, (int)old["floating_ips"]!);
        Assert.Equal(5, (int)old["injected_files"]!);
        var newer = (await (await region.ComputeClient(region.Identity.AdminToken, "2.57").GetAsync($"os-quota-sets/{project}")).JsonAsync())["quota_set"]!.AsObject();
        Assert.False(newer.ContainsKey("floating_ips"));
        Assert.False(newer.ContainsKey("injected_files"));
        var update = await region.ComputeAdmin.PutAsJsonAsync($"os-quota-sets/{project}", new JsonObject { ["quota_set"] = new JsonObject { ["ram"] = "-2" } });
        Assert.Equal(HttpStatusCode.BadRequest, update.StatusCode);
        var set = await region.ComputeAdmin.PutAsJsonAsync("os-quota-class-sets/default", new JsonObject { ["quota_class_set"] = new JsonObject { ["metadata_items"] = 129 } });
        Assert.Equal(129, (int)(await set.JsonAsync())["quota_class_set"]!["metadata_items"]!);
        var defaults = await (await region.ComputeAdmin.GetAsync($"os-quota-sets/{project}/defaults")).JsonAsync();
        Assert.Equal(129, (int)defaults["quota_set"]!["metadata_items"]!);
        await region.ComputeAdmin.PutAsJsonAsync("os-quota-class-sets/default", new JsonObject { ["quota_class_set"] = new JsonObject { ["metadata_items"] = 128 } });
    }

    [Fact]
    public async Task Metadata_and_tags_are_kept_per_server_and_checked()
    {
        var (member, id) = await ActiveServerAsync("2.26");
        var set = await member.PostJsonAsync($"servers/{id}/metadata", new JsonObject { ["metadata"] = new JsonObject { ["a"] = "1", ["b"] = "2" } }, 200);
        Assert.Equal("2", (string?)set["metadata"]!["b"]);
        var one = await member.PutAsJsonAsync($"servers/{id}/metadata/c", new JsonObject { ["meta"] = new JsonObject { ["c"] = "3" } });
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        var mismatch = await member.PutAsJsonAsync($"servers/{id}/metadata/d", new JsonObject { ["meta"] = new JsonObject { ["c"] = "3" } });
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await member.DeleteAsync($"servers/{id}/metadata/a")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await member.GetAsync($"servers/{id}/metadata/a")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await member.PutAsync($"servers/{id}/tags/red", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await member.PutAsync($"servers/{id}/tags/red", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await member.GetAsync($"servers/{id}/tags/red")).StatusCode);
        var bad = await member.PutAsJsonAsync($"servers/{id}/tags", new JsonObject { ["tags"] = new JsonArray("a,b") });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var server = (await (await member.GetAsync($"servers/{id}")).JsonAsync())["server"]!;
        Assert.Equal("3", (string?)server["metadata"]!["c"]);
        Assert.Equal(["red"], server["tags"]!.AsArray().Select(t => (string)t!));
    }

    [Fact]
    public async Task A_resize_is_confirmed_or_reverted_and_placement_follows_the_flavor()
    {
        var (member, id) = await ActiveServerAsync(ram: 64);
        var bigger = await FlavorAsync(ram: 128);
        Assert.Equal(HttpStatusCode.Accepted, (await member.PostAsJsonAsync($"servers/{id}/action", new JsonObject { ["resize"] = new JsonObject { ["flavorRef"] = bigger } })).StatusCode);
        var resized = await WaitAsync(member, id, "VERIFY_RESIZE");
        Assert.Equal("VERIFY_RESIZE", (string?)resized["status"]);
        Assert.Equal(bigger, (string?)resized["flavor"]!["id"]);
        var allocation = await (await region.PlacementClient(region.Identity.AdminToken).GetAsync($"allocations/{id}")).JsonAsync();
        Assert.Equal(128, (int)allocation["allocations"]!.AsObject().First().Value!["resources"]!["MEMORY_MB"]!);
        Assert.Equal(HttpStatusCode.Accepted, (await member.PostAsJsonAsync($"servers/{id}/action", new JsonObject { ["revertResize"] = null })).StatusCode);
        var reverted = await WaitAsync(member, id, "ACTIVE");
        Assert.NotEqual(bigger, (string?)reverted["flavor"]!["id"]);
        var again = await member.PostAsJsonAsync($"servers/{id}/action", new JsonObject { ["confirmResize"] = null });
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        var migrations = await (await region.ComputeAdmin.GetAsync($"os-migrations?instance_uuid={id}")).JsonAsync();
        Assert.Equal("reverted", (string?)migrations["migrations"]![0]!["status"]);
    }

    [Fact]
    public async Task A_rebuild_keeps_the_server_and_answers_with_a_new_password()
    {
        var (member, id) = await ActiveServerAsync();
        var image = (string)(await (await member.GetAsync($"servers/{id}")).JsonAsync())["server"]!["image"]!["id"]!;
        var rebuilt = await member.PostJsonAsync($"servers/{id}/action", new JsonObject
        {
            ["rebuild"] = new JsonObject { ["imageRef"] = image, ["name"] = "rebuilt", ["metadata"] = new JsonObject { ["k"] = "v" } },
        }, 202);
        Assert.Equal("rebuilt", (string?)rebuilt["server"]!["name"]);
        Assert.NotNull(rebuilt["server"]!["adminPass"]);
        Assert.False(rebuilt["server"]!.AsObject().ContainsKey("OS-EXT-STS:vm_state"));
        Assert.Equal("ACTIVE", (string?)(await WaitAsync(member, id, "ACTIVE"))["status"]);
        var missing = await member.PostAsJsonAsync($"servers/{id}/action", new JsonObject { ["rebuild"] = new JsonObject { ["imageRef"] = Guid.NewGuid().ToString() } });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
    }

    [Fact]
    public async Task Server_groups_and_aggregates_follow_nova()
    {
        var (member, _, _) = await region.NewComputeUserAsync("2.64");
        var group = await member.PostJsonAsync("os-server-groups", new JsonObject { ["server_group"] = new JsonObject { ["name"] = "g", ["policy"] = "anti-affinity" } }, 200);
        Assert.Equal("anti-affinity", (string?)group["server_group"]!["policy"]);
        var rules = await member.PostAsJsonAsync("os-server-groups", new JsonObject
        {
            ["server_group"] = new JsonObject { ["name"] = "g2", ["policy"] = "affinity", ["rules"] = new JsonObject { ["max_server_per_host"] = 2 } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, rules.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await member.DeleteAsync($"os-server-groups/{group["server_group"]!["id"]}")).StatusCode);

        var name = "agg-" + Guid.NewGuid().ToString("N")[..6];
        var aggregate = (await region.ComputeAdmin.PostJsonAsync("os-aggregates", new JsonObject { ["aggregate"] = new JsonObject { ["name"] = name, ["availability_zone"] = name } }, 200))["aggregate"]!;
        var id = (int)aggregate["id"]!;
        Assert.Equal(HttpStatusCode.Conflict, (await region.ComputeAdmin.PostAsJsonAsync("os-aggregates", new JsonObject { ["aggregate"] = new JsonObject { ["name"] = name } })).StatusCode);
        var added = await region.ComputeAdmin.PostJsonAsync($"os-aggregates/{id}/action", new JsonObject { ["add_host"] = new JsonObject { ["host"] = "compute-test" } }, 200);
        Assert.Equal(["compute-test"], added["aggregate"]!["hosts"]!.AsArray().Select(h => (string)h!));
        var zones = await (await region.ComputeAdmin.GetAsync("os-availability-zone")).JsonAsync();
        Assert.Contains(name, zones["availabilityZoneInfo"]!.AsArray().Select(z => (string?)z!["zoneName"]));
        Assert.Equal(HttpStatusCode.BadRequest, (await region.ComputeAdmin.DeleteAsync($"os-aggregates/{id}")).StatusCode);
        await region.ComputeAdmin.PostJsonAsync($"os-aggregates/{id}/action", new JsonObject { ["remove_host"] = new JsonObject { ["host"] = "compute-test" } }, 200);
        Assert.Equal(HttpStatusCode.OK, (await region.ComputeAdmin.DeleteAsync($"os-aggregates/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync("os-aggregates")).StatusCode);
    }

    [Fact]
    public async Task A_server_that_names_no_zone_may_land_in_any_and_takes_its_hosts_zone()
    {
        // The only host in a zone of its own: a create without a zone still lands on it (Nova's scheduler filters
        // by zone only when one is asked), and the server shows the host's zone; asking for the default one fails.
        var zone = "az-" + Guid.NewGuid().ToString("N")[..6];
        var id = (int)(await region.ComputeAdmin.PostJsonAsync("os-aggregates", new JsonObject { ["aggregate"] = new JsonObject { ["name"] = zone, ["availability_zone"] = zone } }, 200))["aggregate"]!["id"]!;
        await region.ComputeAdmin.PostJsonAsync($"os-aggregates/{id}/action", new JsonObject { ["add_host"] = new JsonObject { ["host"] = "compute-test" } }, 200);
        try
        {
            var (member, server) = await ActiveServerAsync();
            Assert.Equal(zone, (string?)(await (await member.GetAsync($"servers/{server}")).JsonAsync())["server"]!["OS-EXT-AZ:availability_zone"]);
            var image = (string)(await (await member.GetAsync($"servers/{server}")).JsonAsync())["server"]!["image"]!["id"]!;
            var inNova = await member.PostAsJsonAsync("servers", new JsonObject
            {
                ["server"] = new JsonObject { ["name"] = "in nova", ["imageRef"] = image, ["flavorRef"] = await FlavorAsync(), ["availability_zone"] = "nova" },
            });
            Assert.Equal(HttpStatusCode.BadRequest, inNova.StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await member.DeleteAsync($"servers/{server}")).StatusCode);
        }
        finally
        {
            await region.ComputeAdmin.PostJsonAsync($"os-aggregates/{id}/action", new JsonObject { ["remove_host"] = new JsonObject { ["host"] = "compute-test" } }, 200);
        }
    }

    [Fact]
    public async Task Hypervisor_statistics_and_uptime_are_served()
    {
        var stats = await (await region.ComputeAdmin.GetAsync("os-hypervisors/statistics")).JsonAsync();
        Assert.True((int)stats["hypervisor_statistics"]!["count"]! >= 1);
        var list = await (await region.ComputeAdmin.GetAsync("os-hypervisors")).JsonAsync();
        var id = (int)list["hypervisors"]![0]!["id"]!;
        var uptime = await (await region.ComputeAdmin.GetAsync($"os-hypervisors/{id}/uptime")).JsonAsync();
        Assert.Contains("load average", (string?)uptime["hypervisor"]!["uptime"]);
        Assert.Equal(HttpStatusCode.NotFound, (await region.ComputeAdmin.GetAsync("os-hypervisors/nothing-like-this/search")).StatusCode);
    }
}
