using System.Text.Json.Nodes;

namespace Stratus.BlockStorage.Tests;

/// <summary>Group types (3.11) and their group specs: admin-only changes, public listing, Cinder's refusals.</summary>
public sealed class GroupTypeTests(BlockStorageServer server) : IClassFixture<BlockStorageServer>
{
    [Fact]
    public async Task Group_types_are_the_admins_and_members_see_only_public_ones_without_specs()
    {
        using var admin = await server.AdminAsync();
        var (member, _, _) = await server.NewProjectUserAsync();
        var denied = await member.ExpectAsync(HttpMethod.Post, "group_types", 403, new JsonObject { ["group_type"] = new JsonObject { ["name"] = "nope" } });
        Assert.Equal("Policy doesn't allow group:group_types:create to be performed.", (string?)denied["forbidden"]!["message"]);
        var open = (await admin.ExpectAsync(HttpMethod.Post, "group_types", 202, new JsonObject
        {
            ["group_type"] = new JsonObject { ["name"] = "gt-public", ["description"] = "d", ["group_specs"] = new JsonObject { ["consistent_group_snapshot_enabled"] = "<is> False" } },
        }))["group_type"]!;
        Assert.Equal("<is> False", (string?)open["group_specs"]!["consistent_group_snapshot_enabled"]);
        var hidden = (string)(await admin.ExpectAsync(HttpMethod.Post, "group_types", 202,
            new JsonObject { ["group_type"] = new JsonObject { ["name"] = "gt-private", ["is_public"] = false } }))["group_type"]!["id"]!;
        var duplicate = await admin.ExpectAsync(HttpMethod.Post, "group_types", 409, new JsonObject { ["group_type"] = new JsonObject { ["name"] = "gt-public" } });
        Assert.Equal("Group Type gt-public already exists.", (string?)duplicate["conflictingRequest"]!["message"]);

        var seen = (await member.ExpectAsync(HttpMethod.Get, "group_types", 200))["group_types"]!.AsArray();
        var mine = Assert.Single(seen, t => (string?)t!["name"] is "gt-public" or "gt-private")!;
        Assert.Equal("gt-public", (string?)mine["name"]);
        Assert.Null(mine["group_specs"]);
        await member.ExpectAsync(HttpMethod.Get, $"group_types/{hidden}", 404);
        var names = (await admin.ExpectAsync(HttpMethod.Get, "group_types?is_public=false", 200))["group_types"]!.AsArray().Select(t => (string?)t!["name"]).ToList();
        Assert.Contains("gt-private", names);
        Assert.DoesNotContain("gt-public", names);
        await admin.ExpectAsync(HttpMethod.Get, "group_types?is_public=maybe", 400);
        // Cinder has no default group type unless [DEFAULT] default_group_type names one; before 3.11 there are none.
        Assert.Equal("Default group type can not be found.", (string?)(await admin.ExpectAsync(HttpMethod.Get, "group_types/default", 404))["itemNotFound"]!["message"]);
        using var old = await server.AdminAsync("3.10");
        await old.ExpectAsync(HttpMethod.Get, "group_types", 404);

        var empty = await admin.ExpectAsync(HttpMethod.Put, $"group_types/{hidden}", 400, new JsonObject { ["group_type"] = new JsonObject() });
        Assert.Equal("Specify group type name, description or a combination thereof.", (string?)empty["badRequest"]!["message"]);
        var updated = (await admin.ExpectAsync(HttpMethod.Put, $"group_types/{hidden}", 200,
            new JsonObject { ["group_type"] = new JsonObject { ["name"] = "gt-renamed", ["is_public"] = true } }))["group_type"]!;
        Assert.Equal("gt-renamed", (string?)updated["name"]);
        Assert.True((bool)updated["is_public"]!);
        await admin.ExpectAsync(HttpMethod.Delete, $"group_types/{hidden}", 202);
        await admin.ExpectAsync(HttpMethod.Get, $"group_types/{hidden}", 404);
    }

    [Fact]
    public async Task Group_specs_are_created_updated_shown_and_deleted_by_key()
    {
        using var admin = await server.AdminAsync();
        var id = (string)(await admin.ExpectAsync(HttpMethod.Post, "group_types", 202,
            new JsonObject { ["group_type"] = new JsonObject { ["name"] = "gt-specs" } }))["group_type"]!["id"]!;
        var created = await admin.ExpectAsync(HttpMethod.Post, $"group_types/{id}/group_specs", 202,
            new JsonObject { ["group_specs"] = new JsonObject { ["key1"] = "value1", ["key2"] = "value2" } });
        Assert.Equal("value2", (string?)created["group_specs"]!["key2"]);
        await admin.ExpectAsync(HttpMethod.Post, $"group_types/{id}/group_specs", 400, new JsonObject { ["group_specs"] = new JsonObject { ["bad key"] = "v" } });
        await admin.ExpectAsync(HttpMethod.Put, $"group_types/{id}/group_specs/key1", 400, new JsonObject { ["key2"] = "x" });
        Assert.Equal("new", (string?)(await admin.ExpectAsync(HttpMethod.Put, $"group_types/{id}/group_specs/key1", 200, new JsonObject { ["key1"] = "new" }))["key1"]);
        Assert.Equal("new", (string?)(await admin.ExpectAsync(HttpMethod.Get, $"group_types/{id}/group_specs/key1", 200))["key1"]);
        var all = (await admin.ExpectAsync(HttpMethod.Get, $"group_types/{id}/group_specs", 200))["group_specs"]!.AsObject();
        Assert.Equal(["key1", "key2"], all.Select(p => p.Key).Order());
        await admin.ExpectAsync(HttpMethod.Delete, $"group_types/{id}/group_specs/key1", 202);
        var gone = await admin.ExpectAsync(HttpMethod.Get, $"group_types/{id}/group_specs/key1", 404);
        Assert.Equal($"Group Type {id} has no extra spec with key key1.", (string?)gone["itemNotFound"]!["message"]);
        await admin.ExpectAsync(HttpMethod.Delete, $"group_types/{id}/group_specs/key1", 404);
        var (member, _, _) = await server.NewProjectUserAsync();
        await member.ExpectAsync(HttpMethod.Get, $"group_types/{id}/group_specs", 403);
    }
}
