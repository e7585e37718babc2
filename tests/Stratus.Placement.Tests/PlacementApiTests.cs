using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Placement.Tests;

public class PlacementApiTests(PlacementServer server) : IClassFixture<PlacementServer>
{
    async Task<string> ProviderAsync(HttpClient admin, int vcpus = 8, int ram = 4096)
    {
        var uuid = Guid.NewGuid().ToString();
        var created = await admin.PostAsJsonAsync("resource_providers", new JsonObject { ["name"] = "rp-" + uuid[..8], ["uuid"] = uuid });
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var put = await admin.PutJsonAsync($"resource_providers/{uuid}/inventories", new JsonObject
        {
            ["resource_provider_generation"] = 0,
            ["inventories"] = new JsonObject
            {
                ["VCPU"] = new JsonObject { ["total"] = vcpus, ["allocation_ratio"] = 1.0 },
                ["MEMORY_MB"] = new JsonObject { ["total"] = ram, ["reserved"] = 0 },
            },
        });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        return uuid;
    }

    [Fact]
    public async Task Version_discovery_is_open_and_everything_else_needs_an_admin_token()
    {
        var root = await server.Client(null, null).GetAsync("");
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal("1.39", (string?)(await root.JsonAsync())["versions"]![0]!["max_version"]);
        var anonymous = await server.Client(null).GetAsync("resource_providers");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.StartsWith("Keystone uri=", anonymous.Headers.WwwAuthenticate.ToString());
        var (member, _, _) = await server.Identity.NewProjectUserAsync();
        var token = member.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        var forbidden = await server.Client(token).GetAsync("resource_providers");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(403, (int)(await forbidden.JsonAsync())["errors"]![0]!["status"]!);
    }

    [Fact]
    public async Task Microversions_are_echoed_and_unknown_ones_refused()
    {
        var ok = await server.Admin("1.20").GetAsync("resource_providers");
        Assert.Equal("placement 1.20", ok.Headers.GetValues("OpenStack-API-Version").Single());
        Assert.Equal(HttpStatusCode.NotAcceptable, (await server.Admin("1.99").GetAsync("resource_providers")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Admin("one").GetAsync("resource_providers")).StatusCode);
        var latest = await server.Admin("latest").GetAsync("resource_providers");
        Assert.Equal("placement 1.39", latest.Headers.GetValues("OpenStack-API-Version").Single());
    }

    [Fact]
    public async Task Generations_guard_inventory_changes()
    {
        var admin = server.Admin();
        var rp = await ProviderAsync(admin);
        var stale = await admin.PutJsonAsync($"resource_providers/{rp}/inventories", new JsonObject
        {
            ["resource_provider_generation"] = 0,
            ["inventories"] = new JsonObject { ["VCPU"] = new JsonObject { ["total"] = 2 } },
        });
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Equal("placement.concurrent_update", (string?)(await stale.JsonAsync())["errors"]![0]!["code"]);
        var inv = await (await admin.GetAsync($"resource_providers/{rp}/inventories")).JsonAsync();
        Assert.Equal(1, (int)inv["resource_provider_generation"]!);
        Assert.Equal(8, (int)inv["inventories"]!["VCPU"]!["total"]!);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutJsonAsync($"resource_providers/{rp}/inventories", new JsonObject
        {
            ["resource_provider_generation"] = 1, ["inventories"] = new JsonObject { ["NOT_A_CLASS"] = new JsonObject { ["total"] = 1 } },
        })).StatusCode);
    }

    [Fact]
    public async Task Allocations_respect_capacity_and_usages_return_to_zero()
    {
        var admin = server.Admin();
        var rp = await ProviderAsync(admin, vcpus: 4, ram: 1024);
        var project = Guid.NewGuid().ToString("N");
        JsonObject Claim(int vcpu, long? generation) => new()
        {
            ["allocations"] = new JsonObject { [rp] = new JsonObject { ["resources"] = new JsonObject { ["VCPU"] = vcpu, ["MEMORY_MB"] = 256 } } },
            ["project_id"] = project, ["user_id"] = "u", ["consumer_generation"] = generation,
        };
        var first = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutJsonAsync($"allocations/{first}", Claim(3, null))).StatusCode);
        var second = Guid.NewGuid().ToString();
        var over = await admin.PutJsonAsync($"allocations/{second}", Claim(2, null));
        Assert.Equal(HttpStatusCode.Conflict, over.StatusCode);
        Assert.Contains("exceed the capacity", await over.Content.ReadAsStringAsync());
        // A stale consumer generation is refused; the right one replaces the allocation.
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PutJsonAsync($"allocations/{first}", Claim(1, null))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutJsonAsync($"allocations/{first}", Claim(1, 1))).StatusCode);
        var shown = await (await admin.GetAsync($"allocations/{first}")).JsonAsync();
        Assert.Equal(1, (int)shown["allocations"]![rp]!["resources"]!["VCPU"]!);
        Assert.Equal(2, (int)shown["consumer_generation"]!);

        var candidates = await (await admin.GetAsync("allocation_candidates?resources=VCPU:3,MEMORY_MB:256")).JsonAsync();
        Assert.Contains(rp, candidates["provider_summaries"]!.AsObject().Select(p => p.Key));
        Assert.Equal(1, (int)candidates["provider_summaries"]![rp]!["resources"]!["VCPU"]!["used"]!);
        var none = await (await admin.GetAsync("allocation_candidates?resources=VCPU:4,MEMORY_MB:256")).JsonAsync();
        Assert.DoesNotContain(rp, none["provider_summaries"]!.AsObject().Select(p => p.Key));

        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync($"resource_providers/{rp}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"allocations/{first}")).StatusCode);
        var usages = await (await admin.GetAsync($"resource_providers/{rp}/usages")).JsonAsync();
        Assert.Equal(0, (int)usages["usages"]!["VCPU"]!);
        Assert.Empty((await (await admin.GetAsync($"usages?project_id={project}")).JsonAsync())["usages"]!.AsObject());
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"resource_providers/{rp}")).StatusCode);
    }

    [Fact]
    public async Task Traits_and_custom_resource_classes()
    {
        var admin = server.Admin();
        var rp = await ProviderAsync(admin);
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("traits/CUSTOM_FAST_DISK", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsync("traits/CUSTOM_FAST_DISK", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutAsync("traits/lowercase", null)).StatusCode);
        var set = await admin.PutJsonAsync($"resource_providers/{rp}/traits", new JsonObject
        {
            ["resource_provider_generation"] = 1, ["traits"] = new JsonArray("CUSTOM_FAST_DISK", "HW_CPU_X86_AVX2"),
        });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var with = await (await admin.GetAsync("allocation_candidates?resources=VCPU:1&required=CUSTOM_FAST_DISK")).JsonAsync();
        Assert.Contains(rp, with["provider_summaries"]!.AsObject().Select(p => p.Key));
        var without = await (await admin.GetAsync("allocation_candidates?resources=VCPU:1&required=!CUSTOM_FAST_DISK")).JsonAsync();
        Assert.DoesNotContain(rp, without["provider_summaries"]!.AsObject().Select(p => p.Key));
        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync("traits/CUSTOM_FAST_DISK")).StatusCode);

        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("resource_classes", new JsonObject { ["name"] = "CUSTOM_GPU_SLICE" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync("resource_classes", new JsonObject { ["name"] = "CUSTOM_GPU_SLICE" })).StatusCode);
        var classes = await (await admin.GetAsync("resource_classes")).JsonAsync();
        Assert.Contains("CUSTOM_GPU_SLICE", classes["resource_classes"]!.AsArray().Select(c => (string?)c!["name"]));
        Assert.Contains("VCPU", classes["resource_classes"]!.AsArray().Select(c => (string?)c!["name"]));
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.DeleteAsync("resource_classes/VCPU")).StatusCode);
    }

    [Fact]
    public async Task Bad_input_gets_placement_errors_not_500s()
    {
        var admin = server.Admin();
        foreach (var (path, body) in new (string, string)[]
        {
            ("resource_providers", "{\"uuid\": \"not-a-uuid\", \"name\": \"x\"}"),
            ("resource_providers", "{}"),
            ("resource_providers", "[1,2"),
        })
        {
            var r = await admin.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.NotNull((await r.JsonAsync())["errors"]);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("allocation_candidates?resources=VCPU")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"resource_providers/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutJsonAsync($"allocations/{Guid.NewGuid()}", new JsonObject
        {
            ["allocations"] = new JsonObject { [Guid.NewGuid().ToString()] = new JsonObject { ["resources"] = new JsonObject { ["VCPU"] = 1 } } },
            ["project_id"] = "p", ["user_id"] = "u", ["consumer_generation"] = null,
        })).StatusCode);
    }
}
