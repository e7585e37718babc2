using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Compute.Tests.Api;

/// <summary>
/// Nova's proxy to the image service (<c>/images</c> up to 2.35, image metadata up to 2.38) and personality
/// files (up to 2.56), over real HTTP with the region's real image service.
/// </summary>
public class ImageProxyTests(RegionServer region) : IClassFixture<RegionServer>
{
    static async Task<JsonObject> OkAsync(HttpResponseMessage r)
    {
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return await r.JsonAsync();
    }

    static async Task<JsonObject> ImageAsync(HttpClient image, string id) => (await image.GetFromJsonAsync<JsonObject>($"v2/images/{id}"))!;

    [Fact]
    public async Task Images_are_listed_and_shown_in_nova_s_shape_up_to_2_35_and_gone_at_2_36()
    {
        var (compute, image, _) = await region.NewComputeUserAsync("2.35");
        var id = await region.NewImageAsync(image);
        var patch = new StringContent("""[{"op":"add","path":"/os_distro","value":"cirros"},{"op":"add","path":"/auto_disk_config","value":"true"}]""");
        patch.Headers.ContentType = new("application/openstack-images-v2.1-json-patch");
        (await image.PatchAsync($"v2/images/{id}", patch)).EnsureSuccessStatusCode();
        var glance = await ImageAsync(image, id);

        var shown = (await (await compute.GetAsync($"images/{id}")).JsonAsync())["image"]!.AsObject();
        Assert.Equal(id, (string?)shown["id"]);
        Assert.Equal((string?)glance["name"], (string?)shown["name"]);
        Assert.Equal("ACTIVE", (string?)shown["status"]);
        Assert.Equal(100, (int)shown["progress"]!);
        Assert.Equal(4, (long)shown["OS-EXT-IMG-SIZE:size"]!);
        Assert.Equal(0, (int)shown["minRam"]!);
        // The extra properties are Nova's "metadata"; Glance's own attributes are not.
        Assert.Equal("cirros", (string?)shown["metadata"]!["os_distro"]);
        Assert.False(shown["metadata"]!.AsObject().ContainsKey("disk_format"));
        Assert.Equal("AUTO", (string?)shown["OS-DCF:diskConfig"]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", (string?)shown["created"]);
        var links = shown["links"]!.AsArray();
        Assert.Equal(["self", "bookmark", "alternate"], links.Select(l => (string?)l!["rel"]));
        Assert.EndsWith($"/images/{id}", (string?)links[2]!["href"]);

        var listed = (await (await compute.GetAsync("images")).JsonAsync())["images"]!.AsArray();
        var basic = listed.Single(i => (string?)i!["id"] == id)!.AsObject();
        Assert.Equal(["id", "links", "name"], basic.Select(p => p.Key).Order(StringComparer.Ordinal));
        var detail = (await (await compute.GetAsync("images/detail?name=" + Uri.EscapeDataString((string)glance["name"]!))).JsonAsync())["images"]!.AsArray();
        Assert.Equal(id, (string?)Assert.Single(detail)!["id"]);
        Assert.Empty((await (await compute.GetAsync("images/detail?status=SAVING&name=" + Uri.EscapeDataString((string)glance["name"]!))).JsonAsync())["images"]!.AsArray());
        Assert.Single((await (await compute.GetAsync("images/detail?property-os_distro=cirros")).JsonAsync())["images"]!.AsArray(), i => (string?)i!["id"] == id);

        var unknown = await compute.GetAsync($"images/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("Image not found.", (string?)(await unknown.JsonAsync())["itemNotFound"]!["message"]);

        var newer = region.ComputeClient(compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single(), "2.36");
        Assert.Equal(HttpStatusCode.NotFound, (await newer.GetAsync("images/detail")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await newer.GetAsync($"images/{id}")).StatusCode);
    }

    [Fact]
    public async Task Images_are_paged_with_limit_and_marker_and_a_next_link()
    {
        var (compute, image, _) = await region.NewComputeUserAsync();
        var ids = new List<string>();
        for (var n = 0; n < 3; n++) ids.Add(await region.NewImageAsync(image));
        var all = (await (await compute.GetAsync("images")).JsonAsync())["images"]!.AsArray().Select(i => (string)i!["id"]!).ToList();
        Assert.Superset(ids.ToHashSet(), all.ToHashSet());

        var first = await (await compute.GetAsync("images?limit=2")).JsonAsync();
        var page = first["images"]!.AsArray().Select(i => (string)i!["id"]!).ToList();
        Assert.Equal(all.Take(2), page);
        var next = (string)first["images_links"]![0]!["href"]!;
        Assert.Contains("marker=" + page[1], next);
        var second = (await (await compute.GetAsync($"images?limit=2&marker={page[1]}")).JsonAsync())["images"]!.AsArray().Select(i => (string)i!["id"]!);
        Assert.Equal(all.Skip(2).Take(2), second);
        Assert.Equal(HttpStatusCode.BadRequest, (await compute.GetAsync("images?limit=-1")).StatusCode);
    }

    [Fact]
    public async Task Image_metadata_is_the_image_s_properties_and_is_written_through_to_the_image_service()
    {
        var (compute, image, _) = await region.NewComputeUserAsync("2.38");
        var id = await region.NewImageAsync(image);

        var set = await compute.PostJsonAsync($"images/{id}/metadata", new JsonObject { ["metadata"] = new JsonObject { ["a"] = "1", ["b"] = "2" } }, 200);
        Assert.Equal("2", (string?)set["metadata"]!["b"]);
        Assert.Equal("1", (string?)(await ImageAsync(image, id))["a"]);

        var one = await OkAsync(await compute.PutAsJsonAsync($"images/{id}/metadata/a", new JsonObject { ["meta"] = new JsonObject { ["a"] = "one" } }));
        Assert.Equal("one", (string?)one["meta"]!["a"]);
        Assert.Equal("one", (string?)(await (await compute.GetAsync($"images/{id}/metadata/a")).JsonAsync())["meta"]!["a"]);
        var mismatch = await compute.PutAsJsonAsync($"images/{id}/metadata/a", new JsonObject { ["meta"] = new JsonObject { ["b"] = "x" } });
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);

        // PUT on the collection replaces every property: "a" and "b" go, "c" comes.
        var replaced = await OkAsync(await compute.PutAsJsonAsync($"images/{id}/metadata", new JsonObject { ["metadata"] = new JsonObject { ["c"] = "3" } }));
        Assert.Equal("""{"c":"3"}""", replaced["metadata"]!.ToJsonString());
        var glance = await ImageAsync(image, id);
        Assert.False(glance.ContainsKey("a"));
        Assert.Equal("3", (string?)glance["c"]);
        Assert.Equal("""{"c":"3"}""", (await (await compute.GetAsync($"images/{id}/metadata")).JsonAsync())["metadata"]!.ToJsonString());

        Assert.Equal(HttpStatusCode.NoContent, (await compute.DeleteAsync($"images/{id}/metadata/c")).StatusCode);
        Assert.False((await ImageAsync(image, id)).ContainsKey("c"));
        Assert.Equal(HttpStatusCode.NotFound, (await compute.DeleteAsync($"images/{id}/metadata/c")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await compute.GetAsync($"images/{Guid.NewGuid()}/metadata")).StatusCode);
        var badKey = await compute.PostAsJsonAsync($"images/{id}/metadata", new JsonObject { ["metadata"] = new JsonObject { [new string('k', 256)] = "v" } });
        Assert.Equal(HttpStatusCode.BadRequest, badKey.StatusCode);

        // Over the project's metadata_items quota: 403, and nothing written.
        var project = (string)(await ImageAsync(image, id))["owner"]!;
        await OkAsync(await region.ComputeAdmin.PutAsJsonAsync($"os-quota-sets/{project}", new JsonObject { ["quota_set"] = new JsonObject { ["metadata_items"] = 1 } }));
        var over = await compute.PostAsJsonAsync($"images/{id}/metadata", new JsonObject { ["metadata"] = new JsonObject { ["x"] = "1", ["y"] = "2" } });
        Assert.Equal(HttpStatusCode.Forbidden, over.StatusCode);
        Assert.Equal("Image metadata limit exceeded", (string?)(await over.JsonAsync())["forbidden"]!["message"]);
        Assert.False((await ImageAsync(image, id)).ContainsKey("x"));

        var newer = region.ComputeClient(compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single(), "2.39");
        Assert.Equal(HttpStatusCode.NotFound, (await newer.GetAsync($"images/{id}/metadata")).StatusCode);
    }

    [Fact]
    public async Task An_image_is_deleted_through_nova_by_its_owner_only()
    {
        var (compute, image, _) = await region.NewComputeUserAsync();
        var id = await region.NewImageAsync(image);
        var (other, _, _) = await region.NewComputeUserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await compute.DeleteAsync($"images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await image.GetAsync($"v2/images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await compute.DeleteAsync($"images/{id}")).StatusCode);
    }

    [Fact]
    public async Task Personality_files_are_taken_up_to_2_56_within_the_injected_file_quotas()
    {
        var (compute, image, project) = await region.NewComputeUserAsync("2.37");
        var imageId = await region.NewImageAsync(image);
        var flavor = await region.NewFlavorAsync();
        JsonObject Server(JsonArray personality) => new()
        {
            ["server"] = new JsonObject
            {
                ["name"] = "personal", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["networks"] = "none", ["config_drive"] = true, ["personality"] = personality,
            },
        };
        static JsonObject File(string path, string text) => new() { ["path"] = path, ["contents"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text)) };

        var created = await compute.PostJsonAsync("servers", Server([File("/etc/motd", "hello")]), 202);
        var id = (string)created["server"]!["id"]!;
        Assert.Equal("ACTIVE", (string?)(await RegionServer.WaitForServerAsync(compute, id, s => (string?)s["status"] is "ACTIVE" or "ERROR"))["status"]);

        var notBase64 = await compute.PostAsJsonAsync("servers", Server([new JsonObject { ["path"] = "/etc/motd", ["contents"] = "not base64!" }]));
        Assert.Equal(HttpStatusCode.BadRequest, notBase64.StatusCode);
        var extra = await compute.PostAsJsonAsync("servers", Server([new JsonObject { ["path"] = "/a", ["contents"] = "", ["mode"] = "0600" }]));
        Assert.Equal(HttpStatusCode.BadRequest, extra.StatusCode);

        var tooMany = await compute.PostAsJsonAsync("servers", Server([.. Enumerable.Range(0, 6).Select(n => (JsonNode)File($"/f{n}", "x"))]));
        Assert.Equal(HttpStatusCode.Forbidden, tooMany.StatusCode);
        Assert.Equal("Personality file limit exceeded", (string?)(await tooMany.JsonAsync())["forbidden"]!["message"]);
        var longPath = await compute.PostAsJsonAsync("servers", Server([File("/" + new string('p', 255), "x")]));
        Assert.Equal("Personality file path exceeds maximum 255", (string?)(await longPath.JsonAsync())["forbidden"]!["message"]);
        await OkAsync(await region.ComputeAdmin.PutAsJsonAsync($"os-quota-sets/{project}", new JsonObject { ["quota_set"] = new JsonObject { ["injected_file_content_bytes"] = 8 } }));
        var big = await compute.PostAsJsonAsync("servers", Server([File("/etc/motd", "more than eight bytes")]));
        Assert.Equal(HttpStatusCode.Forbidden, big.StatusCode);
        Assert.Equal("Personality file content exceeds maximum 8", (string?)(await big.JsonAsync())["forbidden"]!["message"]);

        // A rebuild takes them too (its files_to_inject).
        var rebuild = await compute.PostAsJsonAsync($"servers/{id}/action", new JsonObject
        {
            ["rebuild"] = new JsonObject { ["imageRef"] = imageId, ["personality"] = new JsonArray(File("/etc/x", "y")) },
        });
        Assert.Equal(HttpStatusCode.Accepted, rebuild.StatusCode);

        var newer = region.ComputeClient(compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single(), "2.57");
        var gone = await newer.PostAsJsonAsync("servers", Server([File("/etc/motd", "hi")]));
        Assert.Equal(HttpStatusCode.BadRequest, gone.StatusCode);
        Assert.Contains("'personality' was unexpected", (string?)(await gone.JsonAsync())["badRequest"]!["message"]);
    }
}
