using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Stratus.BlockStorage.Data;
using Stratus.Core.Data;

namespace Stratus.BlockStorage.Tests;

/// <summary>What a restart does with work a stopped service left half done: no volume stays creating forever.</summary>
public sealed class RecoveryTests(BlockStorageServer server) : IClassFixture<BlockStorageServer>
{
    CinderDb Database()
    {
        var b = new DbContextOptionsBuilder<CinderDb>();
        DatabaseUrl.Parse(server.Options.DatabaseConnection).Configure(b);
        return new CinderDb(b.Options);
    }

    [Fact]
    public async Task After_a_restart_an_interrupted_create_fails_and_an_unscheduled_one_is_made()
    {
        var (member, project, _) = await server.NewProjectUserAsync();
        var type = (string)(await member.ExpectAsync(HttpMethod.Get, "types/default", 200))["volume_type"]!["id"]!;
        await server.Node.StopAsync();
        var host = server.Options.Host + "@file";
        var interrupted = Guid.NewGuid().ToString();
        var unscheduled = Guid.NewGuid().ToString();
        await using (var db = Database())
        {
            // As a crash leaves them: one placed on the backend mid-create (with its temporary file), one never placed.
            db.Volumes.Add(new VolumeRow { Id = interrupted, ProjectId = project, UserId = "u", Size = 1, VolumeTypeId = type, Host = host + "#file", CreatedAt = DateTime.UtcNow });
            db.Volumes.Add(new VolumeRow { Id = unscheduled, ProjectId = project, UserId = "u", Size = 1, VolumeTypeId = type, CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync();
        }
        var leftover = Path.Combine(server.Options.Backends[0].VolumesDir, $"volume-{interrupted}.tmp");
        await File.WriteAllTextAsync(leftover, "half a volume");
        await server.Node.StartAsync();

        Assert.Equal("error", (string?)(await member.WaitVolumeAsync(interrupted, "error"))["status"]);
        Assert.False(File.Exists(leftover));
        var message = (await member.ExpectAsync(HttpMethod.Get, $"messages?resource_uuid={interrupted}", 200))["messages"]![0]!;
        Assert.Equal("create volume from backend storage:Driver failed to create the volume. Reason: the volume service stopped while the volume was being created",
            (string?)message["user_message"]);
        Assert.Equal("available", (string?)(await member.WaitVolumeAsync(unscheduled, "available"))["status"]);
        Assert.True(File.Exists(Path.Combine(server.Options.Backends[0].VolumesDir, "volume-" + unscheduled)));
    }

    [Fact]
    public async Task After_a_restart_an_interrupted_backup_fails_and_gives_its_volume_back()
    {
        var (member, project, _) = await server.NewProjectUserAsync();
        var volume = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        await server.Node.StopAsync();
        var backup = Guid.NewGuid().ToString();
        await using (var db = Database())
        {
            // As a crash leaves them: the volume backing-up, the backup creating with a half-written object.
            var v = await db.Volumes.FirstAsync(x => x.Id == volume);
            v.Status = "backing-up";
            db.Backups.Add(new BackupRow
            {
                Id = backup,
                ProjectId = project,
                UserId = "u",
                VolumeId = volume,
                Size = 1,
                Host = server.Options.Host,
                VolumePreviousStatus = "available",
                CreatedAt = DateTime.UtcNow,
            });
            await db.SaveChangesAsync();
        }
        var dir = Path.Combine(server.Options.BackupPosixPath, backup[..2], backup[2..4], backup);
        Directory.CreateDirectory(dir);
        var leftover = Path.Combine(dir, "volume_x_backup_y-00001.tmp");
        await File.WriteAllTextAsync(leftover, "half an object");
        await server.Node.StartAsync();

        var shown = (await member.ExpectAsync(HttpMethod.Get, $"backups/{backup}", 200))["backup"]!;
        Assert.Equal("error", (string?)shown["status"]);
        Assert.Equal("incomplete backup reset on manager restart", (string?)shown["fail_reason"]);
        Assert.Equal("available", (string?)(await member.ExpectAsync(HttpMethod.Get, $"volumes/{volume}", 200))["volume"]!["status"]);
        Assert.False(File.Exists(leftover));
        Assert.False(Directory.Exists(dir));
    }
}

/// <summary>A backend whose heartbeats come less often than service_down_time: it shows down between them.</summary>
public sealed class SilentBackendServer : BlockStorageServer
{
    protected override IReadOnlyDictionary<string, string>? PostConfig =>
        new Dictionary<string, string> { [BlockStorageModule.CinderConf] = "[DEFAULT]\nreport_interval = 600\nservice_down_time = 2\n" };
}

public sealed class DownServiceTests(SilentBackendServer server) : IClassFixture<SilentBackendServer>
{
    [Fact]
    public async Task A_backend_that_stopped_reporting_is_down_and_gets_no_volumes()
    {
        using var admin = await server.AdminAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonNode backend;
        do
        {
            await Task.Delay(500);
            backend = (await admin.ExpectAsync(HttpMethod.Get, "os-services?binary=cinder-volume", 200))["services"]![0]!;
        }
        while ((string?)backend["state"] == "up" && DateTime.UtcNow < deadline);
        Assert.Equal("down", (string?)backend["state"]);
        Assert.Equal("enabled", (string?)backend["status"]);
        var zones = (await admin.ExpectAsync(HttpMethod.Get, "os-availability-zone", 200))["availabilityZoneInfo"]!.AsArray();
        Assert.False((bool)zones[0]!["zoneState"]!["available"]!);
        var failed = await admin.CreateVolumeAsync(new JsonObject { ["size"] = 1 }, until: "error");
        var message = (await admin.ExpectAsync(HttpMethod.Get, $"messages?resource_uuid={(string)failed["id"]!}", 200))["messages"]![0]!;
        Assert.Equal("schedule allocate volume:Could not find any available weighted backend.", (string?)message["user_message"]);
    }
}
