using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Stratus.BlockStorage.Tests;

/// <summary>Generic volume groups (3.13+) and group snapshots (3.14+) over real HTTP with the real file backend.</summary>
public sealed class GroupTests(BlockStorageServer server) : IClassFixture<BlockStorageServer>
{
    string FileOf(string volumeId) => Path.Combine(server.Options.Backends[0].VolumesDir, "volume-" + volumeId);
    string SnapshotFileOf(string snapshotId) => Path.Combine(server.Options.Backends[0].VolumesDir, "snapshot-" + snapshotId);

    static async Task<JsonObject> WaitAsync(HttpClient c, string path, string key, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var o = (await c.ExpectAsync(HttpMethod.Get, path, 200))[key]!.AsObject();
            if ((string?)o["status"] == status) return o;
            if (DateTime.UtcNow > deadline) Assert.Fail($"{path} is {(string?)o["status"]}, expected {status}");
            await Task.Delay(100);
        }
    }

    async Task<(string VolumeType, string GroupType)> TypesAsync(string name)
    {
        using var admin = await server.AdminAsync();
        var volumeType = (string)(await admin.ExpectAsync(HttpMethod.Post, "types", 200,
            new JsonObject { ["volume_type"] = new JsonObject { ["name"] = "vt-" + name } }))["volume_type"]!["id"]!;
        var groupType = (string)(await admin.ExpectAsync(HttpMethod.Post, "group_types", 202,
            new JsonObject { ["group_type"] = new JsonObject { ["name"] = "gt-" + name } }))["group_type"]!["id"]!;
        return (volumeType, groupType);
    }

    async Task<string> GroupAsync(HttpClient c, string volumeType, string groupType)
    {
        var created = await c.ExpectAsync(HttpMethod.Post, "groups", 202, new JsonObject
        {
            ["group"] = new JsonObject { ["name"] = "g", ["group_type"] = groupType, ["volume_types"] = new JsonArray(volumeType) },
        });
        var id = (string)created["group"]!["id"]!;
        await WaitAsync(c, $"groups/{id}", "group", "available");
        return id;
    }

    [Fact]
    public async Task A_group_holds_volumes_of_its_types_which_leave_only_with_it()
    {
        var (volumeType, groupType) = await TypesAsync("members");
        var (member, project, token) = await server.NewProjectUserAsync();
        var group = await GroupAsync(member, volumeType, groupType);
        var shown = (await member.ExpectAsync(HttpMethod.Get, $"groups/{group}", 200))["group"]!;
        Assert.Equal(groupType, (string?)shown["group_type"]);
        Assert.Equal(volumeType, (string?)shown["volume_types"]![0]);

        var created = await member.ExpectAsync(HttpMethod.Post, "volumes", 202, new JsonObject
        {
            ["volume"] = new JsonObject { ["size"] = 1, ["volume_type"] = volumeType, ["group_id"] = group },
        });
        Assert.Equal(group, (string?)created["volume"]!["group_id"]);
        var volume = (string)created["volume"]!["id"]!;
        await member.WaitVolumeAsync(volume, "available");
        var wrongType = await member.ExpectAsync(HttpMethod.Post, "volumes", 400, new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["group_id"] = group } });
        Assert.StartsWith("Invalid input received: Invalid volume_type provided", (string?)wrongType["badRequest"]!["message"]);
        await member.ExpectAsync(HttpMethod.Delete, $"volumes/{volume}", 400);
        var kept = await member.ExpectAsync(HttpMethod.Post, $"groups/{group}/action", 400,
            new JsonObject { ["delete"] = new JsonObject { ["delete-volumes"] = false } });
        Assert.Equal($"Invalid group: Group {group} still contains volumes. The delete-volumes flag is required to delete it.", (string?)kept["badRequest"]!["message"]);

        // Out and back in; the list shows it with list_volume (3.25).
        await member.ExpectAsync(HttpMethod.Put, $"groups/{group}", 202, new JsonObject { ["group"] = new JsonObject { ["remove_volumes"] = volume, ["name"] = "renamed" } });
        Assert.Null((await member.ExpectAsync(HttpMethod.Get, $"volumes/{volume}", 200))["volume"]!["group_id"]);
        await member.ExpectAsync(HttpMethod.Put, $"groups/{group}", 202, new JsonObject { ["group"] = new JsonObject { ["add_volumes"] = volume } });
        var listed = (await member.ExpectAsync(HttpMethod.Get, $"groups/{group}?list_volume=true", 200))["group"]!;
        Assert.Equal("renamed", (string?)listed["name"]);
        Assert.Equal(volume, (string?)listed["volumes"]![0]);

        await member.ExpectAsync(HttpMethod.Post, $"groups/{group}/action", 403, new JsonObject { ["reset_status"] = new JsonObject { ["status"] = "error" } });
        using var old = server.Client(token, project, "3.12");
        await old.ExpectAsync(HttpMethod.Get, "groups", 404);

        await member.ExpectAsync(HttpMethod.Post, $"groups/{group}/action", 202, new JsonObject { ["delete"] = new JsonObject { ["delete-volumes"] = true } });
        await member.WaitGoneAsync($"groups/{group}");
        await member.WaitGoneAsync($"volumes/{volume}");
        Assert.False(File.Exists(FileOf(volume)));
    }

    [Fact]
    public async Task A_group_snapshot_copies_every_volume_and_a_group_made_from_it_has_their_bytes()
    {
        var (volumeType, groupType) = await TypesAsync("snapshots");
        var (member, _, _) = await server.NewProjectUserAsync();
        var group = await GroupAsync(member, volumeType, groupType);
        var volumes = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var v = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1, ["volume_type"] = volumeType, ["group_id"] = group }))["id"]!;
            await using (var f = new FileStream(FileOf(v), FileMode.Open, FileAccess.Write)) await f.WriteAsync(RandomNumberGenerator.GetBytes(4096));
            volumes.Add(v);
        }
        var created = await member.ExpectAsync(HttpMethod.Post, "group_snapshots", 202,
            new JsonObject { ["group_snapshot"] = new JsonObject { ["group_id"] = group, ["name"] = "gs" } });
        Assert.Equal(groupType, (string?)created["group_snapshot"]!["group_type_id"]);
        var groupSnapshot = (string)created["group_snapshot"]!["id"]!;
        await WaitAsync(member, $"group_snapshots/{groupSnapshot}", "group_snapshot", "available");
        var snapshots = (await member.ExpectAsync(HttpMethod.Get, "snapshots/detail", 200))["snapshots"]!.AsArray()
            .Where(s => (string?)s!["group_snapshot_id"] == groupSnapshot).ToList();
        Assert.Equal(volumes.Order(), snapshots.Select(s => (string)s!["volume_id"]!).Order());
        Assert.All(snapshots, s => Assert.Equal("available", (string?)s!["status"]));
        var alone = await member.ExpectAsync(HttpMethod.Delete, $"snapshots/{(string)snapshots[0]!["id"]!}", 400);
        Assert.Contains("must not be part of a group", (string?)alone["badRequest"]!["message"]);
        var hasSnapshots = await member.ExpectAsync(HttpMethod.Post, $"groups/{group}/action", 400,
            new JsonObject { ["delete"] = new JsonObject { ["delete-volumes"] = true } });
        Assert.Equal($"Invalid group: Group {group} has group snapshots.", (string?)hasSnapshots["badRequest"]!["message"]);

        var copy = (string)(await member.ExpectAsync(HttpMethod.Post, "groups/action", 202, new JsonObject
        {
            ["create-from-src"] = new JsonObject { ["group_snapshot_id"] = groupSnapshot, ["name"] = "copy" },
        }))["group"]!["id"]!;
        var made = await WaitAsync(member, $"groups/{copy}", "group", "available");
        Assert.Equal(groupSnapshot, (string?)made["group_snapshot_id"]);
        var copies = (await member.ExpectAsync(HttpMethod.Get, "volumes/detail", 200))["volumes"]!.AsArray().Where(v => (string?)v!["group_id"] == copy).ToList();
        Assert.Equal(2, copies.Count);
        static async Task<string> Hash(string path)
        {
            await using var f = File.OpenRead(path);
            return Convert.ToHexString(await SHA256.HashDataAsync(f));
        }
        var originals = new HashSet<string>();
        foreach (var v in volumes) originals.Add(await Hash(FileOf(v)));
        foreach (var v in copies)
        {
            Assert.Equal("available", (string?)v!["status"]);
            Assert.Contains(await Hash(FileOf((string)v["id"]!)), originals);
        }

        await member.ExpectAsync(HttpMethod.Delete, $"group_snapshots/{groupSnapshot}", 202);
        await member.WaitGoneAsync($"group_snapshots/{groupSnapshot}");
        foreach (var s in snapshots) Assert.False(File.Exists(SnapshotFileOf((string)s!["id"]!)));
        foreach (var g in new[] { group, copy })
        {
            await member.ExpectAsync(HttpMethod.Post, $"groups/{g}/action", 202, new JsonObject { ["delete"] = new JsonObject { ["delete-volumes"] = true } });
            await member.WaitGoneAsync($"groups/{g}");
        }
        Assert.Empty((await member.ExpectAsync(HttpMethod.Get, "volumes", 200))["volumes"]!.AsArray());
    }
}
