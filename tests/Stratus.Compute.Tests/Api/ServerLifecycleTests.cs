using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Compute.Tests.Api;

/// <summary>Servers scheduled through a real placement and built by a compute agent with the fake driver.</summary>
public class ServerLifecycleTests(RegionServer region) : IClassFixture<RegionServer>
{
    async Task<string> FlavorAsync(int ram = 64, int vcpus = 1)
    {
        var id = "f-" + Guid.NewGuid().ToString("N")[..6];
        await region.ComputeAdmin.PostJsonAsync("flavors", new JsonObject { ["flavor"] = new JsonObject { ["name"] = id, ["id"] = id, ["ram"] = ram, ["vcpus"] = vcpus, ["disk"] = 1 } }, 200);
        return id;
    }

    static async Task<JsonObject> WaitAsync(HttpClient c, string id, Func<JsonObject, bool> done)
    {
        JsonObject server = [];
        for (var i = 0; i < 150; i++)
        {
            var r = await c.GetAsync($"servers/{id}");
            if (r.StatusCode == HttpStatusCode.NotFound) return [];
            server = (await r.JsonAsync())["server"]!.AsObject();
            if (done(server)) return server;
            await Task.Delay(100);
        }
        return server;
    }

    static Func<JsonObject, bool> Status(string status) => s => (string?)s["status"] == status && s["OS-EXT-STS:task_state"] is null;

    async Task<JsonObject> UsagesAsync()
    {
        var placement = region.PlacementClient(region.Identity.AdminToken);
        var rps = await (await placement.GetAsync("resource_providers")).JsonAsync();
        var rp = (string)rps["resource_providers"]![0]!["uuid"]!;
        return (await (await placement.GetAsync($"resource_providers/{rp}/usages")).JsonAsync())["usages"]!.AsObject();
    }

    [Fact]
    public async Task A_server_is_built_driven_through_its_actions_and_deleted_leaving_no_allocation()
    {
        var (member, image, project) = await region.NewComputeUserAsync("2.73");
        var imageId = await region.NewImageAsync(image);
        var flavor = await FlavorAsync(ram: 96, vcpus: 2);
        var id = (string)(await member.PostJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "life", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["networks"] = "none" },
        }, 202))["server"]!["id"]!;
        var server = await WaitAsync(member, id, Status("ACTIVE"));
        Assert.Equal("ACTIVE", (string?)server["status"]);
        Assert.Equal(1, (int)server["OS-EXT-STS:power_state"]!);
        Assert.NotNull(server["OS-SRV-USG:launched_at"]);
        Assert.Equal(96, (int)server["flavor"]!["ram"]!);
        var admin = await (await region.ComputeClient(region.Identity.AdminToken, "2.73").GetAsync($"servers/{id}")).JsonAsync();
        Assert.Equal("compute-test", (string?)admin["server"]!["OS-EXT-SRV-ATTR:host"]);
        var usages = await (await region.PlacementClient(region.Identity.AdminToken).GetAsync($"usages?project_id={project}")).JsonAsync();
        Assert.Equal(2, (int)usages["usages"]!["VCPU"]!);
        Assert.Equal(96, (int)usages["usages"]!["MEMORY_MB"]!);

        foreach (var (action, status) in new[] { ("os-stop", "SHUTOFF"), ("os-start", "ACTIVE"), ("pause", "PAUSED"), ("unpause", "ACTIVE"),
            ("suspend", "SUSPENDED"), ("resume", "ACTIVE") })
        {
            Assert.Equal(HttpStatusCode.Accepted, (await member.PostAsJsonAsync($"servers/{id}/action", new JsonObject { [action] = null })).StatusCode);
            Assert.Equal(status, (string?)(await WaitAsync(member, id, Status(status)))["status"]);
        }
        Assert.Equal(HttpStatusCode.Accepted, (await member.PostAsJsonAsync($"servers/{id}/action", new JsonObject { ["reboot"] = new JsonObject { ["type"] = "HARD" } })).StatusCode);
        Assert.Equal("ACTIVE", (string?)(await WaitAsync(member, id, Status("ACTIVE")))["status"]);
        // Starting a running server is a conflict, as in Nova.
        Assert.Equal(HttpStatusCode.Conflict, (await member.PostAsJsonAsync($"servers/{id}/action", new JsonObject { ["os-start"] = null })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await member.PostAsJsonAsync($"servers/{id}/action", new JsonObject { ["levitate"] = null })).StatusCode);

        var console = await (await member.PostAsJsonAsync($"servers/{id}/action", new JsonObject { ["os-getConsoleOutput"] = new JsonObject { ["length"] = 5 } })).JsonAsync();
        Assert.NotNull(console["output"]);

        Assert.Equal(HttpStatusCode.Accepted, (await member.PostAsJsonAsync($"servers/{id}/action", new JsonObject { ["lock"] = new JsonObject { ["locked_reason"] = "keep" } })).StatusCode);
        Assert.Equal("keep", (string?)(await WaitAsync(member, id, s => s["locked"]?.GetValue<bool>() == true))["locked_reason"]);
        Assert.Equal(HttpStatusCode.Conflict, (await member.DeleteAsync($"servers/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await member.PostAsJsonAsync($"servers/{id}/action", new JsonObject { ["unlock"] = null })).StatusCode);

        var actions = await (await member.GetAsync($"servers/{id}/os-instance-actions")).JsonAsync();
        Assert.Equal(["create", "stop", "start", "pause", "unpause", "suspend", "resume", "reboot", "lock", "unlock"],
            actions["instanceActions"]!.AsArray().Select(a => (string)a!["action"]!).Reverse());

        Assert.Equal(HttpStatusCode.NoContent, (await member.DeleteAsync($"servers/{id}")).StatusCode);
        Assert.Empty(await WaitAsync(member, id, _ => false));
        usages = await (await region.PlacementClient(region.Identity.AdminToken).GetAsync($"usages?project_id={project}")).JsonAsync();
        Assert.Empty(usages["usages"]!.AsObject());
    }

    [Fact]
    public async Task A_server_no_host_can_hold_goes_to_ERROR_with_No_valid_host()
    {
        var imageId = await region.NewImageAsync(region.Admin);
        // Quota allows it (unlimited ram for the admin's project); no host has the room.
        var adminProject = (string)(await region.Identity.Admin.GetFromJsonAsync<JsonObject>("v3/auth/projects"))!["projects"]![0]!["id"]!;
        (await region.ComputeAdmin.PutAsJsonAsync($"os-quota-sets/{adminProject}", new JsonObject { ["quota_set"] = new JsonObject { ["ram"] = -1 } })).EnsureSuccessStatusCode();
        var huge = await FlavorAsync(ram: 4_000_000, vcpus: 1);
        var id = (string)(await region.ComputeClient(region.Identity.AdminToken, "2.37").PostJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "huge", ["imageRef"] = imageId, ["flavorRef"] = huge, ["networks"] = "none" },
        }, 202))["server"]!["id"]!;
        var server = await WaitAsync(region.ComputeClient(region.Identity.AdminToken, "2.37"), id, Status("ERROR"));
        Assert.Equal("ERROR", (string?)server["status"]);
        Assert.Equal("No valid host was found. There are not enough hosts available.", (string?)server["fault"]!["message"]);
        Assert.Equal(HttpStatusCode.NoContent, (await region.ComputeAdmin.DeleteAsync($"servers/{id}")).StatusCode);
    }

    [Fact]
    public async Task The_compute_agent_registers_its_provider_and_inventory_in_placement()
    {
        JsonObject inventories = [];
        for (var i = 0; i < 50; i++)
        {
            var placement = region.PlacementClient(region.Identity.AdminToken);
            var rps = (await (await placement.GetAsync("resource_providers?name=compute-test")).JsonAsync())["resource_providers"]!.AsArray();
            if (rps.Count == 1)
            {
                inventories = (await (await placement.GetAsync($"resource_providers/{rps[0]!["uuid"]}/inventories")).JsonAsync())["inventories"]!.AsObject();
                if (inventories.Count == 3) break;
            }
            await Task.Delay(100);
        }
        Assert.Equal(["DISK_GB", "MEMORY_MB", "VCPU"], inventories.Select(i => i.Key).Order());
        Assert.Equal(4.0, (double)inventories["VCPU"]!["allocation_ratio"]!);
        Assert.Equal(1000, (int)inventories["VCPU"]!["total"]!);
    }
}
