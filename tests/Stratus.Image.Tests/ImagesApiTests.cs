using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Image.Tests;

public class ImagesApiTests(ImageServer server) : IClassFixture<ImageServer>
{
    static JsonObject NewImage(string? name = null, string visibility = "private") => new()
    {
        ["name"] = name ?? "img-" + Guid.NewGuid().ToString("N")[..8],
        ["disk_format"] = "qcow2",
        ["container_format"] = "bare",
        ["visibility"] = visibility,
    };

    [Fact]
    public async Task Version_discovery_needs_no_token_and_lists_v2()
    {
        var resp = await server.Anonymous.GetAsync("");
        Assert.Equal(HttpStatusCode.MultipleChoices, resp.StatusCode);
        var body = JsonNode.Parse(await resp.Content.ReadAsStringAsync())!;
        Assert.Equal("CURRENT", (string?)body["versions"]![0]!["status"]);
        Assert.EndsWith("/v2/", (string?)body["versions"]![0]!["links"]![0]!["href"]);
        Assert.Equal(HttpStatusCode.OK, (await server.Anonymous.GetAsync("versions")).StatusCode);
    }

    [Fact]
    public async Task Created_image_is_queued_owned_by_the_project_and_shown_with_glance_fields()
    {
        var image = await server.Admin.CreateImageAsync(new JsonObject
        {
            ["name"] = "created", ["disk_format"] = "raw", ["container_format"] = "bare", ["min_ram"] = 64, ["hw_rng_model"] = "virtio", ["tags"] = new JsonArray("a", "b"),
        });
        var id = (string)image["id"]!;
        Assert.Equal("queued", (string?)image["status"]);
        Assert.Equal("shared", (string?)image["visibility"]);
        Assert.Equal(64, (int)image["min_ram"]!);
        Assert.Equal("virtio", (string?)image["hw_rng_model"]);
        Assert.Null(image["size"]);
        Assert.True(image.ContainsKey("checksum") && image["checksum"] is null);
        Assert.Equal($"/v2/images/{id}/file", (string?)image["file"]);
        var shown = await server.Admin.GetJsonAsync($"v2/images/{id}");
        Assert.Equal(["a", "b"], shown["tags"]!.AsArray().Select(t => (string)t!).Order());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", (string)shown["created_at"]!);
    }

    [Theory]
    [InlineData("""{"disk_format": "floppy"}""", 400)]
    [InlineData("""{"min_disk": "big"}""", 400)]
    [InlineData("""{"min_ram": -1}""", 400)]
    [InlineData("""{"name": 5}""", 400)]
    [InlineData("""{"custom": 5}""", 400)]
    [InlineData("""{"status": "active"}""", 403)]
    [InlineData("""{"self": "/x"}""", 403)]
    [InlineData("""{"deleted": "1"}""", 403)]
    [InlineData("""{"os_glance_x": "1"}""", 403)]
    [InlineData("""{"id": "not-a-uuid"}""", 400)]
    [InlineData("""[1, 2]""", 400)]
    [InlineData("""{"name": """, 400)]
    public async Task Bad_create_bodies_get_a_glance_error(string body, int status)
    {
        var resp = await server.Admin.PostAsync("v2/images", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(status, (int)resp.StatusCode);
        var error = JsonNode.Parse(await resp.Content.ReadAsStringAsync())!;
        Assert.StartsWith(status.ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)error["code"]);
        Assert.False(string.IsNullOrEmpty((string?)error["message"]));
    }

    [Fact]
    public async Task Duplicate_id_conflicts_even_after_delete()
    {
        var id = Guid.NewGuid().ToString();
        var body = NewImage();
        body["id"] = id;
        await server.Admin.CreateImageAsync(body);
        Assert.Equal(HttpStatusCode.Conflict, (await server.Admin.PostAsJsonAsync("v2/images", body)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v2/images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.GetAsync($"v2/images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await server.Admin.PostAsJsonAsync("v2/images", body)).StatusCode);
    }

    [Fact]
    public async Task Json_patch_adds_replaces_and_removes_properties()
    {
        var id = (string)(await server.Admin.CreateImageAsync(NewImage()))["id"]!;
        var resp = await server.Admin.PatchAsync(id, """
            [{"op": "replace", "path": "/name", "value": "renamed"},
             {"op": "add", "path": "/os_distro", "value": "debian"},
             {"op": "add", "path": "/min_disk", "value": 2},
             {"op": "replace", "path": "/tags", "value": ["x"]}]
            """);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        var image = JsonNode.Parse(await resp.Content.ReadAsStringAsync())!;
        Assert.Equal("renamed", (string?)image["name"]);
        Assert.Equal("debian", (string?)image["os_distro"]);
        Assert.Equal(2, (int)image["min_disk"]!);
        Assert.Equal("x", (string?)image["tags"]![0]);
        resp = await server.Admin.PatchAsync(id, """[{"op": "remove", "path": "/os_distro"}]""");
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.False((await server.Admin.GetJsonAsync($"v2/images/{id}")).ContainsKey("os_distro"));
        // The older v2.0 media type still works.
        resp = await server.Admin.PatchAsync(id, """[{"replace": "/name", "value": "old-style"}]""", "application/openstack-images-v2.0-json-patch");
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("old-style", (string?)(await server.Admin.GetJsonAsync($"v2/images/{id}"))["name"]);
    }

    [Theory]
    [InlineData("""[{"op": "remove", "path": "/nope"}]""", "application/openstack-images-v2.1-json-patch", 409)]
    [InlineData("""[{"op": "replace", "path": "/nope", "value": "x"}]""", "application/openstack-images-v2.1-json-patch", 409)]
    [InlineData("""[{"op": "remove", "path": "/name"}]""", "application/openstack-images-v2.1-json-patch", 403)]
    [InlineData("""[{"op": "replace", "path": "/status", "value": "active"}]""", "application/openstack-images-v2.1-json-patch", 403)]
    [InlineData("""[{"op": "move", "path": "/name", "value": "x"}]""", "application/openstack-images-v2.1-json-patch", 400)]
    [InlineData("""[{"op": "replace", "path": "name", "value": "x"}]""", "application/openstack-images-v2.1-json-patch", 400)]
    [InlineData("""[{"op": "replace", "path": "/a/b", "value": "x"}]""", "application/openstack-images-v2.1-json-patch", 400)]
    [InlineData("""[{"op": "replace", "path": "/name"}]""", "application/openstack-images-v2.1-json-patch", 400)]
    [InlineData("""[{"op": "replace", "path": "/disk_format", "value": "floppy"}]""", "application/openstack-images-v2.1-json-patch", 400)]
    [InlineData("""{"op": "replace"}""", "application/openstack-images-v2.1-json-patch", 400)]
    [InlineData("""[{"op": "replace", "path": "/name", "value": "x"}]""", "application/json", 415)]
    public async Task Bad_patches_are_refused_and_change_nothing(string ops, string mediaType, int status)
    {
        var image = await server.Admin.CreateImageAsync(NewImage("unchanged"));
        var id = (string)image["id"]!;
        var resp = await server.Admin.PatchAsync(id, ops, mediaType);
        Assert.Equal(status, (int)resp.StatusCode);
        if (status == 415) Assert.Contains("application/openstack-images-v2.1-json-patch", resp.Headers.GetValues("Accept-Patch").Single());
        var after = await server.Admin.GetJsonAsync($"v2/images/{id}");
        Assert.Equal("unchanged", (string?)after["name"]);
        Assert.Equal(image["updated_at"]!.ToString(), after["updated_at"]!.ToString());
    }

    [Fact]
    public async Task Protected_image_cannot_be_deleted_until_unprotected()
    {
        var body = NewImage();
        body["protected"] = true;
        var id = (string)(await server.Admin.CreateImageAsync(body))["id"]!;
        Assert.Equal(HttpStatusCode.Forbidden, (await server.Admin.DeleteAsync($"v2/images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Admin.GetAsync($"v2/images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Admin.PatchAsync(id, """[{"op": "replace", "path": "/protected", "value": false}]""")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v2/images/{id}")).StatusCode);
    }

    [Fact]
    public async Task Private_images_are_isolated_between_projects()
    {
        var (alice, aliceProject) = await server.NewProjectUserAsync();
        var (bob, _) = await server.NewProjectUserAsync();
        var mine = (string)(await alice.CreateImageAsync(NewImage(visibility: "private")))["id"]!;
        Assert.Equal(aliceProject, (string?)(await alice.GetJsonAsync($"v2/images/{mine}"))["owner"]);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"v2/images/{mine}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"v2/images/{mine}/file")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.DeleteAsync($"v2/images/{mine}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.PatchAsync(mine, """[{"op": "replace", "path": "/name", "value": "x"}]""")).StatusCode);
        var bobList = await bob.GetJsonAsync("v2/images");
        Assert.DoesNotContain(bobList["images"]!.AsArray(), i => (string?)i!["id"] == mine);
        // The admin sees everything.
        Assert.Equal(HttpStatusCode.OK, (await server.Admin.GetAsync($"v2/images/{mine}")).StatusCode);
    }

    [Fact]
    public async Task Public_images_are_seen_by_all_but_changed_only_by_the_owner_and_published_only_by_admins()
    {
        var (alice, _) = await server.NewProjectUserAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.PostAsJsonAsync("v2/images", NewImage(visibility: "public"))).StatusCode);
        var id = (string)(await server.Admin.CreateImageAsync(NewImage(visibility: "public")))["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"v2/images/{id}")).StatusCode);
        Assert.Contains((await alice.GetJsonAsync("v2/images"))["images"]!.AsArray(), i => (string?)i!["id"] == id);
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.PatchAsync(id, """[{"op": "replace", "path": "/name", "value": "mine"}]""")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.DeleteAsync($"v2/images/{id}")).StatusCode);
    }

    [Fact]
    public async Task Shared_image_members_see_it_and_list_it_once_accepted()
    {
        var (owner, _) = await server.NewProjectUserAsync();
        var (member, memberProject) = await server.NewProjectUserAsync();
        var (stranger, _) = await server.NewProjectUserAsync();
        var id = (string)(await owner.CreateImageAsync(NewImage(visibility: "shared")))["id"]!;
        var add = await owner.PostAsJsonAsync($"v2/images/{id}/members", new JsonObject { ["member"] = memberProject });
        Assert.Equal(HttpStatusCode.OK, add.StatusCode);
        Assert.Equal("pending", (string?)JsonNode.Parse(await add.Content.ReadAsStringAsync())!["status"]);
        Assert.Equal(HttpStatusCode.Conflict, (await owner.PostAsJsonAsync($"v2/images/{id}/members", new JsonObject { ["member"] = memberProject })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync($"v2/images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"v2/images/{id}")).StatusCode);
        Assert.DoesNotContain((await member.GetJsonAsync("v2/images"))["images"]!.AsArray(), i => (string?)i!["id"] == id);
        Assert.Contains((await member.GetJsonAsync("v2/images?member_status=pending"))["images"]!.AsArray(), i => (string?)i!["id"] == id);

        // Only the member decides; then the image is in its default list.
        Assert.Equal(HttpStatusCode.Forbidden,
            (await owner.PutAsJsonAsync($"v2/images/{id}/members/{memberProject}", new JsonObject { ["status"] = "accepted" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK,
            (await member.PutAsJsonAsync($"v2/images/{id}/members/{memberProject}", new JsonObject { ["status"] = "accepted" })).StatusCode);
        Assert.Contains((await member.GetJsonAsync("v2/images"))["images"]!.AsArray(), i => (string?)i!["id"] == id);
        var members = await owner.GetJsonAsync($"v2/images/{id}/members");
        Assert.Equal("accepted", (string?)members["members"]![0]!["status"]);

        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"v2/images/{id}/members/{memberProject}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await member.GetAsync($"v2/images/{id}")).StatusCode);
    }

    [Fact]
    public async Task Members_only_for_shared_images()
    {
        var id = (string)(await server.Admin.CreateImageAsync(NewImage(visibility: "private")))["id"]!;
        var resp = await server.Admin.PostAsJsonAsync($"v2/images/{id}/members", new JsonObject { ["member"] = "someone" });
        Assert.Equal(HttpStatusCode.Forbidden, resp.StatusCode);
    }

    [Fact]
    public async Task Tags_are_added_idempotently_and_removed()
    {
        var id = (string)(await server.Admin.CreateImageAsync(NewImage()))["id"]!;
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.PutAsync($"v2/images/{id}/tags/blue", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.PutAsync($"v2/images/{id}/tags/blue", null)).StatusCode);
        Assert.Equal(["blue"], (await server.Admin.GetJsonAsync($"v2/images/{id}"))["tags"]!.AsArray().Select(t => (string)t!));
        Assert.Contains((await server.Admin.GetJsonAsync("v2/images?tag=blue"))["images"]!.AsArray(), i => (string?)i!["id"] == id);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v2/images/{id}/tags/blue")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.DeleteAsync($"v2/images/{id}/tags/blue")).StatusCode);
    }

    [Fact]
    public async Task List_filters_sorts_and_pages_with_next_links()
    {
        var (user, _) = await server.NewProjectUserAsync();
        var marker = "paged-" + Guid.NewGuid().ToString("N")[..6];
        foreach (var n in new[] { "c", "a", "b", "d", "e" })
        {
            var body = NewImage($"{marker}-{n}");
            body["stage"] = marker;
            await user.CreateImageAsync(body);
        }
        var seen = new List<string>();
        var next = $"v2/images?stage={marker}&sort=name:asc&limit=2";
        while (next is not null)
        {
            var page = await user.GetJsonAsync(next.TrimStart('/'));
            seen.AddRange(page["images"]!.AsArray().Select(i => (string)i!["name"]!));
            Assert.True(page["images"]!.AsArray().Count <= 2);
            next = (string?)page["next"];
        }
        Assert.Equal(new[] { "a", "b", "c", "d", "e" }.Select(n => $"{marker}-{n}"), seen);
        var desc = await user.GetJsonAsync($"v2/images?stage={marker}&sort_key=name&sort_dir=desc");
        Assert.Equal($"{marker}-e", (string?)desc["images"]![0]!["name"]);
        var byName = await user.GetJsonAsync($"v2/images?name=in:{marker}-a,{marker}-c");
        Assert.Equal(2, byName["images"]!.AsArray().Count);
        Assert.Equal(HttpStatusCode.BadRequest, (await user.GetAsync("v2/images?sort_key=owner_thing")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await user.GetAsync("v2/images?limit=-1")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await user.GetAsync($"v2/images?marker={Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await user.GetAsync("v2/images?visibility=everyone")).StatusCode);
    }

    [Fact]
    public async Task Hidden_images_are_listed_only_when_asked_for()
    {
        var body = NewImage();
        body["os_hidden"] = true;
        var id = (string)(await server.Admin.CreateImageAsync(body))["id"]!;
        Assert.DoesNotContain((await server.Admin.GetJsonAsync("v2/images?limit=1000"))["images"]!.AsArray(), i => (string?)i!["id"] == id);
        Assert.Contains((await server.Admin.GetJsonAsync("v2/images?os_hidden=true&limit=1000"))["images"]!.AsArray(), i => (string?)i!["id"] == id);
    }

    [Fact]
    public async Task Schemas_and_import_info_are_served()
    {
        var image = await server.Admin.GetJsonAsync("v2/schemas/image");
        Assert.Equal("image", (string?)image["name"]);
        Assert.Contains("qcow2", image["properties"]!["disk_format"]!["enum"]!.AsArray().Select(v => (string?)v));
        Assert.Equal("images", (string?)(await server.Admin.GetJsonAsync("v2/schemas/images"))["name"]);
        Assert.Equal("member", (string?)(await server.Admin.GetJsonAsync("v2/schemas/member"))["name"]);
        var import = await server.Admin.GetJsonAsync("v2/info/import");
        Assert.Contains("glance-direct", import["import-methods"]!["value"]!.AsArray().Select(v => (string?)v));
        Assert.Equal("file", (string?)(await server.Admin.GetJsonAsync("v2/info/stores"))["stores"]![0]!["id"]);
    }

    [Fact]
    public async Task Unknown_paths_and_methods_get_glance_errors()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.GetAsync("v2/nothing")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.GetAsync($"v2/images/{Guid.NewGuid()}")).StatusCode);
        var resp = await server.Admin.PutAsync("v2/images", null);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, resp.StatusCode);
    }
}
