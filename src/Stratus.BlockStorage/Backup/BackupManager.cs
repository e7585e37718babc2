using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.BlockStorage.Rpc;
using Stratus.Core.Messaging;
using Stratus.Core.Services;

namespace Stratus.BlockStorage.Backup;

/// <summary>
/// cinder-backup: serves the <c>cinder-backup</c> topic as the node's host and heartbeats under that name. It reads a
/// volume the way Cinder's backup manager does, through the connection its cinder-volume exports (the file backend's
/// <c>local</c> device path), and keeps backups with <see cref="PosixBackupDriver"/>. On start it finishes or fails what
/// a crash left half done, as Cinder's <c>_cleanup_incomplete_backup_operations</c>.
/// </summary>
public sealed class BackupManager(IServiceScopeFactory scopes, CinderStore store, CinderOptions options, IMessageBus bus, ServiceGroup group,
    VolumeApi volumes, ILogger<BackupManager> log) : BackgroundService
{
    readonly PosixBackupDriver driver = new(options.BackupPosixPath);

    public override async Task StartAsync(CancellationToken ct)
    {
        driver.Reconcile();
        await RecoverAsync(ct);
        await base.StartAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var dispatcher = new RpcDispatcher(BackupApi.Topic, BackupRpcJson.Default)
            .On<CreateBackup>((m, ct) => CreateAsync(m.BackupId, ct))
            .On<DeleteBackup>((m, ct) => DeleteAsync(m.BackupId, ct))
            .On<RestoreBackup>((m, ct) => RestoreAsync(m.BackupId, m.VolumeId, ct))
            .On<ImportBackup>((m, ct) => ImportAsync(m.BackupId, ct));
        await using var serving = await bus.ServeAsync(BackupApi.Topic, options.Host, dispatcher.DispatchAsync, stop);
        await group.HeartbeatAsync(ct => store.RecordHeartbeatAsync(options.Host, CinderOptions.Backup, BackupApi.Topic,
            options.StorageAvailabilityZone, group.UtcNow, ct), log, "cinder-backup", stop);
    }

    async Task RecoverAsync(CancellationToken ct)
    {
        // Read first without EF Core: after a clean stop there is nothing to recover, and an idle node need not load it.
        if (!await store.AnyBackupAsync(options.Host, [BackupStatus.Creating, BackupStatus.Restoring, BackupStatus.Deleting], ct)) return;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
        var stuck = await db.Backups.Where(b => b.Host == options.Host
            && (b.Status == BackupStatus.Creating || b.Status == BackupStatus.Restoring || b.Status == BackupStatus.Deleting)).ToListAsync(ct);
        foreach (var b in stuck)
        {
            switch (b.Status)
            {
                case BackupStatus.Creating:
                    await ReleaseSourceAsync(db, b, ct);
                    driver.Delete(b);
                    b.Status = BackupStatus.Error;
                    b.FailReason = "incomplete backup reset on manager restart";
                    break;
                case BackupStatus.Restoring:
                    if (b.RestoreVolumeId is { } volumeId && await db.Volumes.FirstOrDefaultAsync(v => v.Id == volumeId, ct) is { Status: "restoring-backup" } volume)
                    {
                        volume.Status = VolumeStatus.ErrorRestoring;
                        volume.Touch(group.UtcNow);
                    }
                    b.Status = BackupStatus.Available;
                    break;
                default:
                    driver.Delete(b);
                    db.Backups.Remove(b);
                    continue;
            }
            b.Touch(group.UtcNow);
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The volume (or snapshot) a backup was made of goes back to what it was.</summary>
    static async Task ReleaseSourceAsync(CinderDb db, BackupRow backup, CancellationToken ct)
    {
        if (backup.SnapshotId is { } snapshotId)
        {
            if (await db.Snapshots.FirstOrDefaultAsync(s => s.Id == snapshotId, ct) is { Status: "backing-up" } snapshot)
                snapshot.Status = "available";
        }
        else if (await db.Volumes.FirstOrDefaultAsync(v => v.Id == backup.VolumeId, ct) is { Status: "backing-up" } volume)
            volume.Status = backup.VolumePreviousStatus ?? VolumeStatus.Available;
    }

    /// <summary>The device the volume's cinder-volume exports for this host (os-brick's local connector reads the file itself).</summary>
    async Task<(string Path, string Format)> AttachAsync(VolumeRow volume, CancellationToken ct)
    {
        var connector = new JsonObject { ["host"] = options.Host, ["ip"] = options.MyIp, ["initiator"] = null }.ToJsonString();
        var info = JsonNode.Parse((await volumes.CallAsync(volume.Backend, new InitializeConnection(volume.Id, connector), VolumeRpc.CallTimeout, ct)).Json)!;
        return ((string)info["data"]!["device_path"]!, (string?)info["data"]!["format"] ?? "raw");
    }

    async Task CreateAsync(string backupId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
        var backup = await db.Backups.FirstOrDefaultAsync(b => b.Id == backupId, ct);
        if (backup is null || backup.Status != BackupStatus.Creating) return;
        try
        {
            var volume = await db.Volumes.AsNoTracking().FirstOrDefaultAsync(v => v.Id == backup.VolumeId, ct)
                ?? throw new InvalidOperationException($"volume {backup.VolumeId} is gone");
            var parent = backup.ParentId is { } parentId ? await db.Backups.AsNoTracking().FirstOrDefaultAsync(b => b.Id == parentId, ct) : null;
            string path, format;
            if (backup.SnapshotId is { } snapshotId)
            {
                // A snapshot of the file backend is a full copy in the volume's format, read where it lies.
                var snapshot = await db.Snapshots.AsNoTracking().FirstAsync(s => s.Id == snapshotId, ct);
                path = snapshot.ProviderLocation ?? throw new InvalidOperationException($"snapshot {snapshotId} has no file");
                (_, format) = await AttachAsync(volume, ct);
            }
            else (path, format) = await AttachAsync(volume, ct);
            backup.Container ??= PosixBackupDriver.DefaultContainer(backup.Id);
            backup.ServiceMetadata = PosixBackupDriver.Prefix(backup, group.UtcNow);
            backup.Service = PosixBackupDriver.Name;
            var meta = new JsonObject
            {
                ["metadata"] = MetadataColumn.View(volume.Metadata),
                ["image_metadata"] = MetadataColumn.View(volume.ImageMetadata),
                ["bootable"] = volume.Bootable,
            };
            backup.ObjectCount = await driver.BackupAsync(backup, parent, path, format, meta, ct);
            backup.Status = BackupStatus.Available;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            log.LogError(e, "Creating backup {Backup} failed", backup.Id);
            backup.Status = BackupStatus.Error;
            backup.FailReason = e.Message;
        }
        await ReleaseSourceAsync(db, backup, ct);
        backup.Touch(group.UtcNow);
        await SaveOrCleanAsync(db, backup, ct);
    }

    /// <summary>Saves the outcome; when the backup was deleted or reset meanwhile (a force delete), its objects go.</summary>
    async Task SaveOrCleanAsync(CinderDb db, BackupRow backup, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            var current = await db.Backups.AsNoTracking().FirstOrDefaultAsync(b => b.Id == backup.Id, ct);
            if (current is null || current.Status == BackupStatus.Deleting) driver.Delete(backup);
        }
    }

    async Task DeleteAsync(string backupId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
        var backup = await db.Backups.FirstOrDefaultAsync(b => b.Id == backupId, ct);
        if (backup is null || backup.Status != BackupStatus.Deleting) return;
        try
        {
            // An imported record shares its objects with the backup it was exported from: the last one to go removes them.
            if (!await db.Backups.AnyAsync(b => b.Id != backup.Id && b.ServiceMetadata == backup.ServiceMetadata && b.Container == backup.Container, ct))
                driver.Delete(backup);
            db.Backups.Remove(backup);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            log.LogError(e, "Deleting backup {Backup} failed", backup.Id);
            backup.Status = BackupStatus.Error;
            backup.FailReason = e.Message;
            backup.Touch(group.UtcNow);
        }
        await db.SaveChangesAsync(ct);
    }

    async Task RestoreAsync(string backupId, string volumeId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
        var backup = await db.Backups.FirstOrDefaultAsync(b => b.Id == backupId, ct);
        var volume = await db.Volumes.FirstOrDefaultAsync(v => v.Id == volumeId, ct);
        if (backup is null || volume is null || backup.Status != BackupStatus.Restoring || volume.Status != "restoring-backup") return;
        try
        {
            var (path, format) = await AttachAsync(volume, ct);
            var meta = await driver.RestoreAsync(backup, path, format, ct);
            // What the volume carried comes back with its bytes (Cinder's backup metadata API), and where it came from.
            var metadata = MetadataColumn.Read(volume.Metadata);
            if (meta["metadata"] is JsonObject m)
                foreach (var (k, v) in m) metadata[k] = (string?)v ?? "";
            if (backup.VolumeId != volume.Id) metadata["src_backup_id"] = backup.Id;
            volume.Metadata = MetadataColumn.Write(metadata);
            if (meta["image_metadata"] is JsonObject { Count: > 0 } image)
                volume.ImageMetadata = MetadataColumn.Write(image.ToDictionary(p => p.Key, p => (string?)p.Value ?? ""));
            if ((bool?)meta["bootable"] == true) volume.Bootable = true;
            volume.Status = VolumeStatus.Available;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            log.LogError(e, "Restoring backup {Backup} to volume {Volume} failed", backup.Id, volume.Id);
            volume.Status = VolumeStatus.ErrorRestoring;
        }
        volume.Touch(group.UtcNow);
        backup.Status = BackupStatus.Available;
        backup.Touch(group.UtcNow);
        await db.SaveChangesAsync(ct);
    }

    async Task ImportAsync(string backupId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
        var backup = await db.Backups.FirstOrDefaultAsync(b => b.Id == backupId, ct);
        if (backup is null || backup.Status != BackupStatus.Creating) return;
        bool found;
        try { found = driver.Exists(backup); }
        catch (InvalidOperationException) { found = false; }
        backup.Status = found ? BackupStatus.Available : BackupStatus.Error;
        backup.FailReason = found ? null : $"The backup's objects {backup.ServiceMetadata} are not in {options.BackupPosixPath}.";
        backup.Touch(group.UtcNow);
        await db.SaveChangesAsync(ct);
    }
}
