using Microsoft.EntityFrameworkCore;
using Stratus.BlockStorage.Data;
using Stratus.BlockStorage.Volume;
using Stratus.Core.Data;
using Stratus.Testing;

namespace Stratus.BlockStorage.Tests;

/// <summary>
/// The block storage service's plain ADO.NET paths (<see cref="CinderStore"/>: heartbeats, capacity, the checks at start)
/// on each database a region may use, read back through EF Core.
/// </summary>
public sealed class CinderStoreTests
{
    static readonly DateTime Now = new(2026, 12, 7, 22, 40, 5, 500, DateTimeKind.Utc);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgresql")]
    [InlineData("mariadb")]
    public async Task Heartbeats_capacity_and_interrupted_work_read_the_rows_EF_Core_maps_on(string kind)
    {
        var ct = CancellationToken.None;
        var (database, store, Ef) = await OpenAsync(kind);
        await using var _ = database;

        // The first report makes the service's row, the next ones update it.
        await store.RecordHeartbeatAsync("node1@lvm", "cinder-volume", "cinder-volume", "nova", Now, ct, backendName: "LVM");
        await store.RecordHeartbeatAsync("node1@lvm", "cinder-volume", "cinder-volume", "zone2", Now.AddSeconds(10), ct, backendName: "LVM");
        await store.RecordHeartbeatAsync("node1", "cinder-scheduler", "cinder-scheduler", "nova", Now, ct);
        await using (var db = Ef())
        {
            var volume = await db.Services.SingleAsync(s => s.Host == "node1@lvm", ct);
            Assert.Equal(("cinder-volume", "zone2", "LVM", 2, Now, Now.AddSeconds(10), false),
                (volume.Topic, volume.AvailabilityZone, volume.BackendName, volume.ReportCount, volume.CreatedAt, volume.LastSeenUp, volume.Disabled));
            Assert.Equal(DateTimeKind.Utc, volume.UpdatedAt.Kind);
            Assert.Equal(2, await db.Services.CountAsync(ct));

            db.Volumes.AddRange(
                Volume("v1", "node1@lvm#pool", 3, VolumeStatus.Available),
                Volume("v2", "node1@lvm#pool", 5, VolumeStatus.Creating),
                Volume("v3", "node1@lvm2#pool", 7, VolumeStatus.Creating),
                Volume("v4", null, 1, VolumeStatus.Creating),
                Volume("v5", null, 1, VolumeStatus.Error));
            db.Backups.Add(new BackupRow { Id = "b1", ProjectId = "p", UserId = "u", VolumeId = "v1", Host = "node1", Status = BackupStatus.Restoring, CreatedAt = Now });
            await db.SaveChangesAsync(ct);
        }
        // Another backend's name that starts the same (lvm2) is not this one's.
        Assert.Equal((8, 2), await store.AllocatedAsync("node1@lvm", ct));
        Assert.Equal((0, 0), await store.AllocatedAsync("node2@lvm", ct));
        Assert.Equal(["v2"], await store.VolumesAsync("node1@lvm", [VolumeStatus.Creating, VolumeStatus.Deleting], ct));
        Assert.Empty(await store.VolumesAsync("node1@lvm", [VolumeStatus.Deleting], ct));
        Assert.Equal(["v4"], await store.VolumesAsync(null, [VolumeStatus.Creating], ct));
        var byStatus = await store.VolumesByStatusAsync(ct);
        Assert.Equal((1, 3, 1), (byStatus[VolumeStatus.Available], byStatus[VolumeStatus.Creating], byStatus[VolumeStatus.Error]));
        Assert.True(await store.AnyBackupAsync("node1", [BackupStatus.Creating, BackupStatus.Restoring], ct));
        Assert.False(await store.AnyBackupAsync("node1", [BackupStatus.Deleting], ct));
        Assert.False(await store.AnyBackupAsync("node2", [BackupStatus.Restoring], ct));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgresql")]
    [InlineData("mariadb")]
    public async Task Volumes_made_shown_and_deleted_types_and_usage_read_and_write_the_rows_EF_Core_maps(string kind)
    {
        var ct = CancellationToken.None;
        var (database, store, Ef) = await OpenAsync(kind);
        await using var _ = database;

        // Types: the default one db sync made, a private one shared with one project.
        var standard = await store.TypeByNameAsync(CinderOptions.DefaultTypeName, ct);
        Assert.NotNull(standard);
        await using (var db = Ef())
        {
            db.VolumeTypes.Add(new VolumeType { Id = "gold", Name = "Gold", IsPublic = false, ExtraSpecs = "{\"volume_backend_name\":\"LVM\"}" });
            db.VolumeTypeAccess.Add(new VolumeTypeAccess { VolumeTypeId = "gold", ProjectId = "p" });
            db.Groups.Add(new GroupRow { Id = "g1", ProjectId = "p", UserId = "u", GroupTypeId = "gt", VolumeTypeIds = "[\"gold\"]", Host = "node1@lvm#LVM", CreatedAt = Now });
            db.QuotaClasses.Add(new QuotaClass { ClassName = "default", Resource = "volumes", HardLimit = 7 });
            db.Quotas.Add(new Quota { ProjectId = "p", Resource = "gigabytes", HardLimit = 50 });
            db.Services.AddRange(
                new ServiceRecord { Host = "node1@lvm", Binary = "cinder-volume", BackendName = "LVM", CreatedAt = Now, UpdatedAt = Now },
                new ServiceRecord { Host = "node2@lvm", Binary = "cinder-volume", BackendName = "LVM", Disabled = true, CreatedAt = Now, UpdatedAt = Now },
                new ServiceRecord { Host = "node1", Binary = "cinder-scheduler", CreatedAt = Now, UpdatedAt = Now });
            await db.SaveChangesAsync(ct);
        }
        var gold = (await store.TypeAsync("gold", ct))!;
        Assert.Equal(("Gold", "{\"volume_backend_name\":\"LVM\"}", false), (gold.Name, gold.ExtraSpecs, gold.IsPublic));
        Assert.Equal("Gold", (await store.TypeNamesAsync(ct))["gold"]);
        Assert.True(await store.HasTypeAccessAsync("gold", "p", ct));
        Assert.False(await store.HasTypeAccessAsync("gold", "q", ct));
        Assert.Equal(["node1@lvm"], (await store.VolumeServicesAsync(ct)).Select(s => s.Host));
        Assert.Equal("LVM", (await store.ServiceAsync("node1@lvm", "cinder-volume", ct))!.BackendName);

        // A volume made in a group reads back through EF Core as written.
        var v1 = Volume("v1", null, 3, VolumeStatus.Creating);
        v1.VolumeTypeId = "gold";
        v1.Metadata = "{\"a\":\"b\"}";
        await store.AddVolumeAsync(v1, "g1", ct);
        await store.AddVolumeAsync(Volume("v2", "node1@lvm#LVM", 5, VolumeStatus.Available), null, ct);
        await using (var db = Ef())
        {
            var read = await db.Volumes.SingleAsync(v => v.Id == "v1", ct);
            Assert.Equal(("p", 3, "gold", "{\"a\":\"b\"}", Now, false, 0), (read.ProjectId, read.Size, read.VolumeTypeId, read.Metadata, read.CreatedAt, read.Bootable, read.Version));
            Assert.Equal("g1", (await db.GroupVolumes.SingleAsync(ct)).GroupId);
        }
        Assert.Equal("g1", await store.GroupOfAsync("v1", ct));
        Assert.Null(await store.GroupOfAsync("v2", ct));

        // The scheduler's write, then a stale one (read before it) refused, as EF Core's version check refuses it.
        var scheduled = (await store.VolumeAsync("v1", ct))!;
        var stale = (await store.VolumeAsync("v1", ct))!;
        scheduled.Host = "node1@lvm#LVM";
        Assert.True(await store.SaveVolumeAsync(scheduled, Now.AddSeconds(1), ct));
        stale.Status = VolumeStatus.Error;
        Assert.False(await store.SaveVolumeAsync(stale, Now.AddSeconds(2), ct,
            UserMessages.New("p", "VOLUME", "v1", UserMessages.ScheduleAllocateVolume, UserMessages.NoBackendAvailable, Now)));
        var failed = (await store.VolumeAsync("v1", ct))!;
        failed.Status = VolumeStatus.Error;
        Assert.True(await store.SaveVolumeAsync(failed, Now.AddSeconds(3), ct,
            UserMessages.New("p", "VOLUME", "v1", UserMessages.CreateVolumeFromBackend, UserMessages.DriverFailedCreate, Now, reason: "disk full")));
        await using (var db = Ef())
        {
            var read = await db.Volumes.SingleAsync(v => v.Id == "v1", ct);
            Assert.Equal((VolumeStatus.Error, "node1@lvm#LVM", 2, Now.AddSeconds(3)), (read.Status, read.Host, read.Version, read.UpdatedAt));
            var message = await db.Messages.SingleAsync(ct);
            Assert.Equal(("VOLUME_VOLUME_008_012", "v1"), (message.EventId, message.ResourceUuid));
            Assert.EndsWith("Reason: disk full", message.Message);
        }
        Assert.Equal([("node1@lvm#LVM", 8)], (await store.UsedByPoolAsync(ct)).Select(u => (u.Host, u.Size)));

        // Usage: a snapshot of a volume since gone still counts, without a type.
        await using (var db = Ef())
        {
            db.Snapshots.AddRange(
                new Snapshot { Id = "s1", VolumeId = "v2", ProjectId = "p", UserId = "u", VolumeSize = 5, Status = "available", CreatedAt = Now },
                new Snapshot { Id = "s2", VolumeId = "gone", ProjectId = "p", UserId = "u", VolumeSize = 2, Status = "available", CreatedAt = Now });
            db.Attachments.Add(new VolumeAttachment { Id = "a1", VolumeId = "v2", AttachStatus = "attached", InstanceUuid = "server", CreatedAt = Now });
            db.Attachments.Add(new VolumeAttachment { Id = "a2", VolumeId = "v2", AttachStatus = "reserved", CreatedAt = Now });
            db.Transfers.Add(new Transfer { VolumeId = "v2", Salt = "s", CryptHash = "h", SourceProjectId = "p", CreatedAt = Now });
            db.Backups.Add(new BackupRow { Id = "b1", ProjectId = "p", UserId = "u", VolumeId = "v2", Size = 4, CreatedAt = Now });
            await db.SaveChangesAsync(ct);
        }
        var usage = await store.UsageAsync("p", ct);
        Assert.Equal([(3, "gold"), (5, "t")], usage.Volumes.Select(v => (v.Size, v.VolumeTypeId)).Order());
        Assert.Equal([(2, null), (5, "t")], usage.Snapshots.Select(v => (v.Size, v.VolumeTypeId)).Order());
        Assert.Equal([4], usage.Backups);
        Assert.Equal(1, usage.Groups);
        Assert.Equal(7, (await store.QuotaClassAsync("default", ct)).Single().HardLimit);
        Assert.Equal(("gigabytes", 50), (await store.QuotasAsync("p", ct)).Select(q => (q.Resource, q.HardLimit)).Single());
        Assert.Equal(["a1"], (await store.AttachedAsync("v2", ct)).Select(a => a.Id));

        // A cascade delete: the volume and its snapshots deleting, its attachments and transfer gone; then cinder-volume's removal.
        var v2 = (await store.VolumeAsync("v2", ct))!;
        var snapshots = await store.SnapshotsOfAsync("v2", ct);
        Assert.True(await store.BeginDeleteAsync(v2, snapshots, Now.AddSeconds(4), ct));
        Assert.False(await store.BeginDeleteAsync(stale, [], Now.AddSeconds(4), ct));
        await using (var db = Ef())
        {
            Assert.Equal(VolumeStatus.Deleting, (await db.Volumes.SingleAsync(v => v.Id == "v2", ct)).Status);
            Assert.Equal("deleting", (await db.Snapshots.SingleAsync(s => s.Id == "s1", ct)).Status);
            Assert.Equal("available", (await db.Snapshots.SingleAsync(s => s.Id == "s2", ct)).Status);
            Assert.False(await db.Attachments.AnyAsync(ct));
            var transfer = await db.Transfers.SingleAsync(ct);
            Assert.Equal((true, Now.AddSeconds(4)), (transfer.Deleted, transfer.DeletedAt));
        }
        await store.RemoveVolumeAsync("v2", ["s1"], ct);
        Assert.Null(await store.VolumeAsync("v2", ct));
        Assert.Null(await store.SnapshotAsync("s1", ct));
        Assert.NotNull(await store.SnapshotAsync("s2", ct));

        // A volume never scheduled, without snapshots, goes at once.
        await store.AddVolumeAsync(Volume("v3", null, 1, VolumeStatus.Error), null, ct);
        Assert.True(await store.BeginDeleteAsync((await store.VolumeAsync("v3", ct))!, [], Now, ct));
        Assert.Null(await store.VolumeAsync("v3", ct));
    }

    /// <summary>A cinder database of <paramref name="kind"/> after db sync, the store on it, and EF Core's context to read it back.</summary>
    static async Task<(TestDatabase Database, CinderStore Store, Func<CinderDb> Ef)> OpenAsync(string kind)
    {
        var database = await TestDatabase.StartAsync(kind, "cinder");
        await CinderDb.SyncAsync(database.Connection);
        var url = DatabaseUrl.Parse(database.Connection);
        return (database, new CinderStore(new SqlDatabase(url)), () =>
        {
            var options = new DbContextOptionsBuilder<CinderDb>();
            url.Configure(options);
            return new CinderDb(options.Options);
        });
    }

    static VolumeRow Volume(string id, string? host, int size, string status) => new()
    {
        Id = id, ProjectId = "p", UserId = "u", Size = size, Status = status, Host = host, VolumeTypeId = "t", CreatedAt = Now,
    };
}
