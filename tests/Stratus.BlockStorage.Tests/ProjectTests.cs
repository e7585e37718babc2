using System.Text.Json.Nodes;

namespace Stratus.BlockStorage.Tests;

/// <summary>What a project sees and may do: isolation, listing with filters, sort and paging, quotas and limits, volume types.</summary>
public sealed class ProjectTests(BlockStorageServer server) : IClassFixture<BlockStorageServer>
{
    [Fact]
    public async Task A_project_never_sees_another_projects_volumes()
    {
        var (alice, aliceProject, _) = await server.NewProjectUserAsync();
        var (bob, _, _) = await server.NewProjectUserAsync();
        var id = (string)(await alice.CreateVolumeAsync(new JsonObject { ["size"] = 1, ["name"] = "alice-only" }))["id"]!;
        Assert.Equal(404, (await bob.SendAsync(HttpMethod.Get, $"volumes/{id}")).Status);
        Assert.Equal(404, (await bob.SendAsync(HttpMethod.Delete, $"volumes/{id}")).Status);
        Assert.Equal(404, (await bob.SendAsync(HttpMethod.Post, "snapshots", new JsonObject { ["snapshot"] = new JsonObject { ["volume_id"] = id } })).Status);
        Assert.Equal(404, (await bob.SendAsync(HttpMethod.Post, "attachments",
            new JsonObject { ["attachment"] = new JsonObject { ["volume_uuid"] = id, ["instance_uuid"] = Guid.NewGuid().ToString() } })).Status);
        Assert.Empty((await bob.ExpectAsync(HttpMethod.Get, "volumes/detail?all_tenants=1", 200))["volumes"]!.AsArray());
        // The admin sees it with all_tenants, not without.
        using var admin = await server.AdminAsync();
        var all = (await admin.ExpectAsync(HttpMethod.Get, "volumes/detail?all_tenants=1", 200))["volumes"]!.AsArray();
        Assert.Contains(all, v => (string?)v!["id"] == id && (string?)v["os-vol-tenant-attr:tenant_id"] == aliceProject);
        Assert.DoesNotContain((await admin.ExpectAsync(HttpMethod.Get, "volumes", 200))["volumes"]!.AsArray(), v => (string?)v!["id"] == id);
        Assert.Equal("alice-only", (string?)(await alice.ExpectAsync(HttpMethod.Get, $"volumes/{id}", 200))["volume"]!["name"]);
    }

    [Fact]
    public async Task Lists_filter_sort_and_page_as_Cinder_does()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var ids = new Dictionary<string, string>();
        foreach (var (name, size) in new[] { ("b", 2), ("a", 1), ("c", 1) })
            ids[name] = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = size, ["name"] = name, ["metadata"] = new JsonObject { ["tier"] = name == "c" ? "gold" : "bronze" } }))["id"]!;

        var byName = (await member.ExpectAsync(HttpMethod.Get, "volumes?sort=name:asc", 200))["volumes"]!.AsArray();
        Assert.Equal(["a", "b", "c"], byName.Select(v => (string?)v!["name"]));
        var bySize = (await member.ExpectAsync(HttpMethod.Get, "volumes/detail?sort=size:desc,name:asc", 200))["volumes"]!.AsArray();
        Assert.Equal(["b", "a", "c"], bySize.Select(v => (string?)v!["name"]));

        var page = await member.ExpectAsync(HttpMethod.Get, "volumes?sort=name:asc&limit=2", 200);
        Assert.Equal(["a", "b"], page["volumes"]!.AsArray().Select(v => (string?)v!["name"]));
        var next = (string)page["volumes_links"]![0]!["href"]!;
        Assert.Contains("marker=" + ids["b"], next);
        var rest = await member.ExpectAsync(HttpMethod.Get, next, 200);
        Assert.Equal(["c"], rest["volumes"]!.AsArray().Select(v => (string?)v!["name"]));
        Assert.Null(rest["volumes_links"]);

        Assert.Equal(["c"], (await member.ExpectAsync(HttpMethod.Get, "volumes?metadata={'tier':'gold'}", 200))["volumes"]!.AsArray().Select(v => (string?)v!["name"]));
        Assert.Equal(["a"], (await member.ExpectAsync(HttpMethod.Get, "volumes?name=a", 200))["volumes"]!.AsArray().Select(v => (string?)v!["name"]));
        var counted = await member.ExpectAsync(HttpMethod.Get, "volumes?with_count=true&limit=1", 200);
        Assert.Equal(3, (int)counted["count"]!);
        Assert.Equal(404, (await member.SendAsync(HttpMethod.Get, $"volumes?marker={Guid.NewGuid()}")).Status);
        var badSort = await member.ExpectAsync(HttpMethod.Get, "volumes?sort=color:asc", 400);
        Assert.Equal("Invalid input received: Invalid sort key color", (string?)badSort["badRequest"]!["message"]);

        await member.ExpectAsync(HttpMethod.Put, $"volumes/{ids["a"]}", 200, new JsonObject { ["volume"] = new JsonObject { ["name"] = "renamed", ["description"] = "d" } });
        var renamed = (await member.ExpectAsync(HttpMethod.Get, $"volumes/{ids["a"]}", 200))["volume"]!;
        Assert.Equal("renamed", (string?)renamed["name"]);
        Assert.Equal("d", (string?)renamed["description"]);
        await member.ExpectAsync(HttpMethod.Put, $"volumes/{ids["a"]}/metadata/tier", 200, new JsonObject { ["meta"] = new JsonObject { ["tier"] = "silver" } });
        await member.ExpectAsync(HttpMethod.Post, $"volumes/{ids["a"]}/metadata", 200, new JsonObject { ["metadata"] = new JsonObject { ["zone"] = "z1" } });
        var meta = (await member.ExpectAsync(HttpMethod.Get, $"volumes/{ids["a"]}/metadata", 200))["metadata"]!;
        Assert.Equal("silver", (string?)meta["tier"]);
        Assert.Equal("z1", (string?)meta["zone"]);
        await member.ExpectAsync(HttpMethod.Delete, $"volumes/{ids["a"]}/metadata/zone", 200);
        await member.ExpectAsync(HttpMethod.Get, $"volumes/{ids["a"]}/metadata/zone", 404);
    }

    [Fact]
    public async Task Quotas_limit_creates_and_limits_show_usage()
    {
        var (member, project, _) = await server.NewProjectUserAsync();
        using var admin = await server.AdminAsync();
        var defaults = (await admin.ExpectAsync(HttpMethod.Get, $"os-quota-sets/{project}/defaults", 200))["quota_set"]!;
        Assert.Equal(10, (int)defaults["volumes"]!);
        Assert.Equal(1000, (int)defaults["gigabytes"]!);
        var denied = await member.ExpectAsync(HttpMethod.Put, $"os-quota-sets/{project}", 403, new JsonObject { ["quota_set"] = new JsonObject { ["volumes"] = 100 } });
        Assert.Equal("Policy doesn't allow volume_extension:quotas:update to be performed.", (string?)denied["forbidden"]!["message"]);
        var set = (await admin.ExpectAsync(HttpMethod.Put, $"os-quota-sets/{project}", 200, new JsonObject { ["quota_set"] = new JsonObject { ["volumes"] = 1 } }))["quota_set"]!;
        Assert.Equal(1, (int)set["volumes"]!);

        await member.CreateVolumeAsync(new JsonObject { ["size"] = 2 });
        var over = await member.ExpectAsync(HttpMethod.Post, "volumes", 413, new JsonObject { ["volume"] = new JsonObject { ["size"] = 1 } });
        Assert.Equal("Maximum number of volumes allowed (1) exceeded for quota 'volumes'.", (string?)over["overLimit"]!["message"]);

        var absolute = (await member.ExpectAsync(HttpMethod.Get, "limits", 200))["limits"]!["absolute"]!;
        Assert.Equal(1, (int)absolute["maxTotalVolumes"]!);
        Assert.Equal(1, (int)absolute["totalVolumesUsed"]!);
        Assert.Equal(2, (int)absolute["totalGigabytesUsed"]!);
        var usage = (await member.ExpectAsync(HttpMethod.Get, $"os-quota-sets/{project}?usage=true", 200))["quota_set"]!;
        Assert.Equal(1, (int)usage["volumes"]!["in_use"]!);
        Assert.Equal(2, (int)usage["gigabytes"]!["in_use"]!);
    }

    [Fact]
    public async Task Volume_types_with_extra_specs_and_access()
    {
        var (member, project, _) = await server.NewProjectUserAsync();
        using var admin = await server.AdminAsync();
        var denied = await member.ExpectAsync(HttpMethod.Post, "types", 403, new JsonObject { ["volume_type"] = new JsonObject { ["name"] = "nope" } });
        Assert.Equal("Policy doesn't allow volume_extension:type_create to be performed.", (string?)denied["forbidden"]!["message"]);

        var name = "fast-" + Guid.NewGuid().ToString("N")[..6];
        var type = (await admin.ExpectAsync(HttpMethod.Post, "types", 200, new JsonObject
        {
            ["volume_type"] = new JsonObject { ["name"] = name, ["extra_specs"] = new JsonObject { ["volume_backend_name"] = "file" } },
        }))["volume_type"]!;
        var typeId = (string)type["id"]!;
        Assert.Equal("file", (string?)type["extra_specs"]!["volume_backend_name"]);
        Assert.Equal(409, (await admin.SendAsync(HttpMethod.Post, "types", new JsonObject { ["volume_type"] = new JsonObject { ["name"] = name } })).Status);
        var volume = await member.CreateVolumeAsync(new JsonObject { ["size"] = 1, ["volume_type"] = name });
        Assert.Equal(name, (string?)volume["volume_type"]);
        Assert.Equal(typeId, (string?)volume["volume_type_id"]);
        var inUse = await admin.ExpectAsync(HttpMethod.Delete, $"types/{typeId}", 400);
        Assert.Equal("Target volume type is still in use.", (string?)inUse["badRequest"]!["message"]);

        // A private type is visible to the projects given access only.
        var hidden = (string)(await admin.ExpectAsync(HttpMethod.Post, "types", 200, new JsonObject
        {
            ["volume_type"] = new JsonObject { ["name"] = "private-" + Guid.NewGuid().ToString("N")[..6], ["os-volume-type-access:is_public"] = false },
        }))["volume_type"]!["id"]!;
        Assert.Equal(404, (await member.SendAsync(HttpMethod.Get, $"types/{hidden}")).Status);
        await admin.ExpectAsync(HttpMethod.Post, $"types/{hidden}/action", 202, VolumeCalls.Action("addProjectAccess", new JsonObject { ["project"] = project }));
        Assert.Equal(hidden, (string?)(await member.ExpectAsync(HttpMethod.Get, $"types/{hidden}", 200))["volume_type"]!["id"]);
        var access = (await admin.ExpectAsync(HttpMethod.Get, $"types/{hidden}/os-volume-type-access", 200))["volume_type_access"]!.AsArray();
        Assert.Contains(access, a => (string?)a!["project_id"] == project);
        Assert.Equal("__DEFAULT__", (string?)(await member.ExpectAsync(HttpMethod.Get, "types/default", 200))["volume_type"]!["name"]);
    }
}
