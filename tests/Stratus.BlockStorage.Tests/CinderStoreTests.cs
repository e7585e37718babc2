using Microsoft.EntityFrameworkCore;
using Stratus.BlockStorage.Data;
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
        await using var database = await TestDatabase.StartAsync(kind, "cinder");
        var connection = database.Connection;
        await CinderDb.SyncAsync(connection, ct: ct);
        var url = DatabaseUrl.Parse(connection);
        var store = new CinderStore(new SqlDatabase(url));
        CinderDb Ef()
        {
            var options = new DbContextOptionsBuilder<CinderDb>();
            url.Configure(options);
            return new CinderDb(options.Options);
        }

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

    static VolumeRow Volume(string id, string? host, int size, string status) => new()
    {
        Id = id, ProjectId = "p", UserId = "u", Size = size, Status = status, Host = host, VolumeTypeId = "t", CreatedAt = Now,
    };
}
