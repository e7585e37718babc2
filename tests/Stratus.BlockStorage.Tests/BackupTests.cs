using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Stratus.BlockStorage.Tests;

/// <summary>
/// Backups over real HTTP with the real file backend and cinder-backup's posix driver: the bytes that come back, the
/// status machine, incremental backups, Cinder's refusals, admin-only records and no files left behind.
/// </summary>
public sealed class BackupTests(BlockStorageServer server) : IClassFixture<BlockStorageServer>
{
    string FileOf(string volumeId) => Path.Combine(server.Options.Backends[0].VolumesDir, "volume-" + volumeId);

    static async Task<JsonObject> WaitBackupAsync(HttpClient c, string id, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var backup = (await c.ExpectAsync(HttpMethod.Get, $"backups/{id}", 200))["backup"]!.AsObject();
            if ((string?)backup["status"] == status) return backup;
            if (DateTime.UtcNow > deadline || (string?)backup["status"] == "error") Assert.Fail($"backup {id} is {(string?)backup["status"]}, expected {status}: {backup["fail_reason"]}");
            await Task.Delay(100);
        }
    }

    static async Task<string> BackupAsync(HttpClient c, JsonObject body)
    {
        var created = await c.ExpectAsync(HttpMethod.Post, "backups", 202, new JsonObject { ["backup"] = body });
        var id = (string)created["backup"]!["id"]!;
        await WaitBackupAsync(c, id, "available");
        return id;
    }

    /// <summary>Writes <paramref name="bytes"/> into the volume's raw file at <paramref name="offset"/>, as a guest would.</summary>
    async Task WriteAsync(string volumeId, long offset, byte[] bytes)
    {
        await using var f = new FileStream(FileOf(volumeId), FileMode.Open, FileAccess.Write);
        f.Position = offset;
        await f.WriteAsync(bytes);
    }

    async Task<string> HashAsync(string volumeId)
    {
        await using var f = File.OpenRead(FileOf(volumeId));
        return Convert.ToHexString(await SHA256.HashDataAsync(f));
    }

    static int FileCount(string dir) => Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Count() : 0;

    [Fact]
    public async Task A_backup_restored_gives_back_the_same_bytes_to_the_same_and_to_a_new_volume()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var volume = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1, ["metadata"] = new JsonObject { ["k"] = "v" } }))["id"]!;
        await WriteAsync(volume, 0, RandomNumberGenerator.GetBytes(5000));
        await WriteAsync(volume, 700L << 20, RandomNumberGenerator.GetBytes(3 << 20));
        var original = await HashAsync(volume);

        var created = await member.ExpectAsync(HttpMethod.Post, "backups", 202,
            new JsonObject { ["backup"] = new JsonObject { ["volume_id"] = volume, ["name"] = "b1" } });
        var backup = (string)created["backup"]!["id"]!;
        var shown = await WaitBackupAsync(member, backup, "available");
        Assert.Equal(1, (int)shown["size"]!);
        Assert.False((bool)shown["is_incremental"]!);
        Assert.Equal(2, (int)shown["object_count"]!); // two chunks hold data; the zeros are not stored
        Assert.Equal("available", (string?)(await member.ExpectAsync(HttpMethod.Get, $"volumes/{volume}", 200))["volume"]!["status"]);

        // The volume changes; restoring it brings back what was backed up, zeros included.
        await WriteAsync(volume, 0, RandomNumberGenerator.GetBytes(4096));
        await WriteAsync(volume, 300L << 20, RandomNumberGenerator.GetBytes(4096));
        Assert.NotEqual(original, await HashAsync(volume));
        var restore = await member.ExpectAsync(HttpMethod.Post, $"backups/{backup}/restore", 202,
            new JsonObject { ["restore"] = new JsonObject { ["volume_id"] = volume } });
        Assert.Equal(volume, (string?)restore["restore"]!["volume_id"]);
        await member.WaitVolumeAsync(volume, "available");
        await WaitBackupAsync(member, backup, "available");
        Assert.Equal(original, await HashAsync(volume));

        // Without a volume, the restore makes one of the backup's size, with the source's metadata.
        restore = await member.ExpectAsync(HttpMethod.Post, $"backups/{backup}/restore", 202, new JsonObject { ["restore"] = null });
        var restored = (string)restore["restore"]!["volume_id"]!;
        Assert.Equal($"restore_backup_{backup}", (string?)restore["restore"]!["volume_name"]);
        var made = await member.WaitVolumeAsync(restored, "available");
        Assert.Equal(original, await HashAsync(restored));
        Assert.Equal("v", (string?)made["metadata"]!["k"]);
        Assert.Equal(backup, (string?)made["metadata"]!["src_backup_id"]);
    }

    [Fact]
    public async Task An_incremental_backup_stores_only_changed_chunks_and_keeps_its_parent()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var volume = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        var refused = await member.ExpectAsync(HttpMethod.Post, "backups", 400,
            new JsonObject { ["backup"] = new JsonObject { ["volume_id"] = volume, ["incremental"] = true } });
        Assert.Equal("Invalid backup: No backups available to do an incremental backup.", (string?)refused["badRequest"]!["message"]);

        await WriteAsync(volume, 0, RandomNumberGenerator.GetBytes(1 << 20));
        await WriteAsync(volume, 200L << 20, RandomNumberGenerator.GetBytes(1 << 20));
        var full = await BackupAsync(member, new JsonObject { ["volume_id"] = volume });
        await WriteAsync(volume, 200L << 20, RandomNumberGenerator.GetBytes(1 << 20));
        var changed = await HashAsync(volume);
        var incremental = await BackupAsync(member, new JsonObject { ["volume_id"] = volume, ["incremental"] = true });
        var shown = (await member.ExpectAsync(HttpMethod.Get, $"backups/{incremental}", 200))["backup"]!;
        Assert.True((bool)shown["is_incremental"]!);
        Assert.Equal(1, (int)shown["object_count"]!);
        Assert.True((bool)(await member.ExpectAsync(HttpMethod.Get, $"backups/{full}", 200))["backup"]!["has_dependent_backups"]!);
        var parentDelete = await member.ExpectAsync(HttpMethod.Delete, $"backups/{full}", 400);
        Assert.Equal("Invalid backup: Incremental backups exist for this backup.", (string?)parentDelete["badRequest"]!["message"]);

        // The incremental restores the volume as it was when taken: its own chunk and the parent's.
        await WriteAsync(volume, 0, new byte[1 << 20]);
        await member.ExpectAsync(HttpMethod.Post, $"backups/{incremental}/restore", 202, new JsonObject { ["restore"] = new JsonObject { ["volume_id"] = volume } });
        await member.WaitVolumeAsync(volume, "available");
        await WaitBackupAsync(member, incremental, "available");
        Assert.Equal(changed, await HashAsync(volume));

        // Child first, then the parent: nothing is left in the backup store.
        var store = server.Options.BackupPosixPath;
        var before = FileCount(store);
        await member.ExpectAsync(HttpMethod.Delete, $"backups/{incremental}", 202);
        await member.WaitGoneAsync($"backups/{incremental}");
        await member.ExpectAsync(HttpMethod.Delete, $"backups/{full}", 202);
        await member.WaitGoneAsync($"backups/{full}");
        Assert.Equal(before - 5, FileCount(store)); // 2 + 1 objects and two metadata files
        Assert.False(Directory.Exists(Path.Combine(store, full[..2], full[2..4], full)));
    }

    [Fact]
    public async Task A_volume_is_backing_up_while_its_backup_is_made_and_an_in_use_one_needs_force()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var volume = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        var created = await member.ExpectAsync(HttpMethod.Post, "backups", 202, new JsonObject { ["backup"] = new JsonObject { ["volume_id"] = volume } });
        var status = (string?)(await member.ExpectAsync(HttpMethod.Get, $"volumes/{volume}", 200))["volume"]!["status"];
        Assert.True(status is "backing-up" or "available", status);
        await WaitBackupAsync(member, (string)created["backup"]!["id"]!, "available");
        await member.WaitVolumeAsync(volume, "available");

        using var admin = await server.AdminAsync();
        await admin.ExpectAsync(HttpMethod.Post, $"volumes/{volume}/action", 202, VolumeCalls.Action("os-reset_status", new JsonObject { ["status"] = "in-use" }));
        var refused = await member.ExpectAsync(HttpMethod.Post, "backups", 400, new JsonObject { ["backup"] = new JsonObject { ["volume_id"] = volume } });
        Assert.Equal("Invalid volume: Backing up an in-use volume must use the force flag.", (string?)refused["badRequest"]!["message"]);
        var forced = await BackupAsync(member, new JsonObject { ["volume_id"] = volume, ["force"] = true });
        Assert.Equal("in-use", (string?)(await member.WaitVolumeAsync(volume, "in-use"))["status"]);
        var restore = await member.ExpectAsync(HttpMethod.Post, $"backups/{forced}/restore", 400, new JsonObject { ["restore"] = new JsonObject { ["volume_id"] = volume } });
        Assert.Equal("Invalid volume: Volume to be restored to must be available", (string?)restore["badRequest"]!["message"]);
    }

    [Fact]
    public async Task A_backup_of_a_snapshot_reads_the_snapshot_and_the_snapshot_comes_back_available()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var volume = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        await WriteAsync(volume, 0, RandomNumberGenerator.GetBytes(4096));
        var snapshotBytes = await HashAsync(volume);
        var snapshot = (string)(await member.ExpectAsync(HttpMethod.Post, "snapshots", 202,
            new JsonObject { ["snapshot"] = new JsonObject { ["volume_id"] = volume } }))["snapshot"]!["id"]!;
        await member.WaitSnapshotAsync(snapshot, "available");
        await WriteAsync(volume, 0, RandomNumberGenerator.GetBytes(4096));

        var other = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        var mismatch = await member.ExpectAsync(HttpMethod.Post, "backups", 400,
            new JsonObject { ["backup"] = new JsonObject { ["volume_id"] = other, ["snapshot_id"] = snapshot } });
        Assert.Equal($"Invalid volume: Volume {other} does not match with snapshot.volume_id {volume}.", (string?)mismatch["badRequest"]!["message"]);

        var backup = await BackupAsync(member, new JsonObject { ["volume_id"] = volume, ["snapshot_id"] = snapshot });
        Assert.Equal(snapshot, (string?)(await member.ExpectAsync(HttpMethod.Get, $"backups/{backup}", 200))["backup"]!["snapshot_id"]);
        await member.WaitSnapshotAsync(snapshot, "available");
        await member.ExpectAsync(HttpMethod.Post, $"backups/{backup}/restore", 202, new JsonObject { ["restore"] = new JsonObject { ["volume_id"] = other } });
        await member.WaitVolumeAsync(other, "available");
        await WaitBackupAsync(member, backup, "available");
        Assert.Equal(snapshotBytes, await HashAsync(other));
    }

    [Fact]
    public async Task Bad_input_is_refused_with_cinder_errors()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var volume = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        async Task<string?> Refused(JsonObject body, int status = 400)
        {
            var error = await member.ExpectAsync(HttpMethod.Post, "backups", status, new JsonObject { ["backup"] = body });
            return (string?)error.First().Value!["message"];
        }
        Assert.Equal("Invalid input for field/attribute volume_id. Value: nope. 'nope' is not a 'uuid'", await Refused(new JsonObject { ["volume_id"] = "nope" }));
        Assert.Contains("'volume_id' is a required property", await Refused([]));
        Assert.Contains("Additional properties are not allowed ('colour' was unexpected)", await Refused(new JsonObject { ["volume_id"] = volume, ["colour"] = "red" }));
        Assert.Contains("Invalid container name", await Refused(new JsonObject { ["volume_id"] = volume, ["container"] = "../../etc" }));
        Assert.Contains("is not of type 'boolean', 'string'", await Refused(new JsonObject { ["volume_id"] = volume, ["force"] = 3 }));
        var missing = Guid.NewGuid().ToString();
        Assert.Equal($"Volume {missing} could not be found.", await Refused(new JsonObject { ["volume_id"] = missing }, 404));
        Assert.Equal($"Backup {missing} could not be found.", (string?)(await member.ExpectAsync(HttpMethod.Get, $"backups/{missing}", 404))["itemNotFound"]!["message"]);
        await member.ExpectAsync(HttpMethod.Post, $"backups/{missing}/restore", 404, new JsonObject { ["restore"] = null });
        // Nothing was recorded by the refusals, and the volume is untouched.
        Assert.Empty((await member.ExpectAsync(HttpMethod.Get, "backups", 200))["backups"]!.AsArray());
        Assert.Equal("available", (string?)(await member.ExpectAsync(HttpMethod.Get, $"volumes/{volume}", 200))["volume"]!["status"]);
    }

    [Fact]
    public async Task Backup_quotas_are_counted_and_enforced()
    {
        var (member, project, _) = await server.NewProjectUserAsync();
        using var admin = await server.AdminAsync();
        var volume = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        await BackupAsync(member, new JsonObject { ["volume_id"] = volume });
        var usage = (await admin.ExpectAsync(HttpMethod.Get, $"os-quota-sets/{project}?usage=true", 200))["quota_set"]!;
        Assert.Equal(1, (int)usage["backups"]!["in_use"]!);
        Assert.Equal(1, (int)usage["backup_gigabytes"]!["in_use"]!);
        await admin.ExpectAsync(HttpMethod.Put, $"os-quota-sets/{project}", 200, new JsonObject { ["quota_set"] = new JsonObject { ["backups"] = 1 } });
        var over = await member.ExpectAsync(HttpMethod.Post, "backups", 413, new JsonObject { ["backup"] = new JsonObject { ["volume_id"] = volume } });
        Assert.Equal("Maximum number of backups allowed (1) exceeded", (string?)over["overLimit"]!["message"]);
        await admin.ExpectAsync(HttpMethod.Put, $"os-quota-sets/{project}", 200,
            new JsonObject { ["quota_set"] = new JsonObject { ["backups"] = 10, ["backup_gigabytes"] = 1 } });
        over = await member.ExpectAsync(HttpMethod.Post, "backups", 413, new JsonObject { ["backup"] = new JsonObject { ["volume_id"] = volume } });
        Assert.Equal("Requested backup exceeds allowed Backup gigabytes quota. Requested 1G, quota is 1G and 1G has been consumed.", (string?)over["overLimit"]!["message"]);
        Assert.Equal(1, (int)(await member.ExpectAsync(HttpMethod.Get, "limits", 200))["limits"]!["absolute"]!["totalBackupsUsed"]!);
    }

    [Fact]
    public async Task Records_and_admin_actions_are_the_admins_and_an_imported_record_restores()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        using var admin = await server.AdminAsync();
        var volume = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        await WriteAsync(volume, 0, RandomNumberGenerator.GetBytes(4096));
        var original = await HashAsync(volume);
        var backup = await BackupAsync(member, new JsonObject { ["volume_id"] = volume });
        await member.ExpectAsync(HttpMethod.Get, $"backups/{backup}/export_record", 403);
        await member.ExpectAsync(HttpMethod.Post, $"backups/{backup}/action", 403, VolumeCalls.Action("os-reset_status", new JsonObject { ["status"] = "error" }));

        var record = (await admin.ExpectAsync(HttpMethod.Get, $"backups/{backup}/export_record", 200))["backup-record"]!;
        Assert.Equal("cinder.backup.drivers.posix.PosixBackupDriver", (string?)record["backup_service"]);
        await member.ExpectAsync(HttpMethod.Post, "backups/import_record", 403, new JsonObject { ["backup-record"] = record.DeepClone() });
        var duplicate = await admin.ExpectAsync(HttpMethod.Post, "backups/import_record", 400, new JsonObject { ["backup-record"] = record.DeepClone() });
        Assert.Equal("Invalid backup: Backup already exists in database.", (string?)duplicate["badRequest"]!["message"]);
        var garbled = await admin.ExpectAsync(HttpMethod.Post, "backups/import_record", 400,
            new JsonObject { ["backup-record"] = new JsonObject { ["backup_service"] = record["backup_service"]!.DeepClone(), ["backup_url"] = "%%%" } });
        Assert.Equal(400, (int)garbled["badRequest"]!["code"]!);

        var fields = JsonNode.Parse(Convert.FromBase64String((string)record["backup_url"]!))!.AsObject();
        var copy = Guid.NewGuid().ToString();
        fields["id"] = copy;
        var imported = await admin.ExpectAsync(HttpMethod.Post, "backups/import_record", 201, new JsonObject
        {
            ["backup-record"] = new JsonObject
            {
                ["backup_service"] = record["backup_service"]!.DeepClone(),
                ["backup_url"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(fields.ToJsonString())),
            },
        });
        Assert.Equal(copy, (string?)imported["backup"]!["id"]);
        await WaitBackupAsync(admin, copy, "available");

        // The copy shares the original's objects: deleting the original leaves them for the copy.
        await member.ExpectAsync(HttpMethod.Delete, $"backups/{backup}", 202);
        await member.WaitGoneAsync($"backups/{backup}");
        await WriteAsync(volume, 0, RandomNumberGenerator.GetBytes(4096));
        await admin.ExpectAsync(HttpMethod.Post, $"backups/{copy}/restore", 202, new JsonObject { ["restore"] = new JsonObject { ["volume_id"] = volume } });
        await WaitBackupAsync(admin, copy, "available");
        await member.WaitVolumeAsync(volume, "available");
        Assert.Equal(original, await HashAsync(volume));

        await admin.ExpectAsync(HttpMethod.Post, $"backups/{copy}/action", 400, VolumeCalls.Action("os-reset_status", new JsonObject { ["status"] = "creating" }));
        await admin.ExpectAsync(HttpMethod.Post, $"backups/{copy}/action", 202, VolumeCalls.Action("os-reset_status", new JsonObject { ["status"] = "error" }));
        Assert.Equal("error", (string?)(await admin.ExpectAsync(HttpMethod.Get, $"backups/{copy}", 200))["backup"]!["status"]);
        await admin.ExpectAsync(HttpMethod.Post, $"backups/{copy}/action", 202, VolumeCalls.Action("os-force_delete"));
        await admin.WaitGoneAsync($"backups/{copy}");
    }

    [Fact]
    public async Task Cinder_backup_heartbeats_in_the_service_list()
    {
        using var admin = await server.AdminAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonArray services;
        do services = (await admin.ExpectAsync(HttpMethod.Get, "os-services?binary=cinder-backup", 200))["services"]!.AsArray();
        while (services.Count == 0 && DateTime.UtcNow < deadline && await Task.Delay(200).ContinueWith(_ => true));
        var backup = Assert.Single(services)!;
        Assert.Equal(server.Options.Host, (string?)backup["host"]);
        Assert.Equal("up", (string?)backup["state"]);
    }
}
