using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.BlockStorage.Backends;
using Stratus.BlockStorage.Rpc;
using Stratus.Core.Messaging;
using Stratus.Core.Services;

namespace Stratus.BlockStorage.Volume;

/// <summary>
/// cinder-volume: one service per section of <c>enabled_backends</c>, each serving <c>cinder-volume</c> as
/// <c>host@backend</c> and heartbeating under that name. It does the work the API recorded (a volume in
/// creating, deleting, extending; a snapshot in creating, deleting) and writes the outcome; on start it
/// finishes or fails what a crash left half done, as Cinder's init_host does. With each heartbeat it reports each
/// backend's stats to the schedulers (Cinder's _report_driver_status and _publish_service_capabilities).
/// </summary>
public sealed class VolumeManager(IServiceScopeFactory scopes, CinderStore store, CinderOptions options, IMessageBus bus, ServiceGroup group,
    GlanceClient images, ILogger<VolumeManager> log) : BackgroundService
{
    readonly SchedulerApi schedulers = new(bus);

    /// <summary>
    /// Recovers before the host starts the next service: a scheduler of the same node, started after, must not place a
    /// volume this recovery would then take for an interrupted one.
    /// </summary>
    public override async Task StartAsync(CancellationToken ct)
    {
        foreach (var backend in options.Backends)
        {
            var driver = new FileBackend(backend);
            driver.Reconcile();
            await RecoverAsync($"{options.Host}@{backend.Section}", ct);
        }
        await base.StartAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var serving = new List<IAsyncDisposable>();
        try
        {
            foreach (var backend in options.Backends)
            {
                var driver = new FileBackend(backend);
                var host = $"{options.Host}@{backend.Section}";
                var dispatcher = new RpcDispatcher(VolumeRpc.VolumeTopic, VolumeRpcJson.Default)
                    .On<CreateVolume>((m, ct) => CreateAsync(driver, m, ct))
                    .On<DeleteVolume>((m, ct) => DeleteAsync(driver, m.VolumeId, ct))
                    .On<ExtendVolume>((m, ct) => ExtendAsync(driver, m, ct))
                    .On<UploadImage>((m, ct) => UploadImageAsync(driver, m, ct))
                    .On<CreateSnapshot>((m, ct) => CreateSnapshotAsync(driver, m.SnapshotId, ct))
                    .On<DeleteSnapshot>((m, ct) => DeleteSnapshotAsync(m.SnapshotId, ct))
                    .On<InitializeConnection, VolumeConnection>((m, ct) => InitializeConnectionAsync(driver, m, ct))
                    .On<GetCapabilities, BackendCapabilities>(async (m, ct) =>
                    {
                        var (allocated, count) = await store.AllocatedAsync(host, ct);
                        return new BackendCapabilities(driver.CapabilitiesWithProperties(allocated, count));
                    })
                    .On<PublishServiceCapabilities>((m, ct) => PublishAsync(driver, host, ct))
                    .On<CreateGroup>((m, ct) => CreateGroupAsync(driver, m.GroupId, ct))
                    .On<DeleteGroup>((m, ct) => DeleteGroupAsync(driver, m.GroupId, ct))
                    .On<CreateGroupSnapshot>((m, ct) => CreateGroupSnapshotAsync(driver, m.GroupSnapshotId, ct))
                    .On<DeleteGroupSnapshot>((m, ct) => DeleteGroupSnapshotAsync(m.GroupSnapshotId, ct));
                serving.Add(await bus.ServeAsync(VolumeRpc.VolumeTopic, host, dispatcher.DispatchAsync, stop));
            }
            await group.HeartbeatAsync(async ct =>
            {
                foreach (var backend in options.Backends)
                    await store.RecordHeartbeatAsync($"{options.Host}@{backend.Section}", CinderOptions.Volume, VolumeRpc.VolumeTopic,
                        options.StorageAvailabilityZone, group.UtcNow, ct, backend.BackendName);
                foreach (var backend in options.Backends)
                    await PublishAsync(new FileBackend(backend), $"{options.Host}@{backend.Section}", ct);
            }, log, "cinder-volume", stop);
        }
        finally
        {
            foreach (var s in serving) await s.DisposeAsync();
        }
    }

    /// <summary>A report that cannot go (no scheduler yet, a broker away) is only late: the next heartbeat sends another.</summary>
    async Task PublishAsync(FileBackend driver, string host, CancellationToken ct)
    {
        try
        {
            var (allocated, count) = await store.AllocatedAsync(host, ct);
            await schedulers.FanoutAsync(new UpdateServiceCapabilities(host, driver.Stats(allocated, count), group.UtcNow), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning(e, "Reporting the stats of {Host} to the schedulers failed", host);
        }
    }

    /// <summary>After a crash: a volume still creating on this backend failed (its temporary file is gone), one deleting is deleted now.</summary>
    async Task RecoverAsync(string host, CancellationToken ct)
    {
        // Read first without EF Core: after a clean stop there is nothing to recover, and an idle node need not load it.
        if ((await store.VolumesAsync(host, [VolumeStatus.Creating, VolumeStatus.Deleting, VolumeStatus.Extending], ct)).Count == 0) return;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
        var prefix = host + "#";
        var stuck = await db.Volumes.Where(v => v.Host != null && v.Host.StartsWith(prefix)
            && (v.Status == VolumeStatus.Creating || v.Status == VolumeStatus.Deleting || v.Status == VolumeStatus.Extending)).ToListAsync(ct);
        foreach (var v in stuck)
        {
            switch (v.Status)
            {
                case VolumeStatus.Creating:
                    v.Status = VolumeStatus.Error;
                    UserMessages.Add(db, v.ProjectId, "VOLUME", v.Id, UserMessages.CreateVolumeFromBackend, UserMessages.DriverFailedCreate, group.UtcNow,
                        reason: "the volume service stopped while the volume was being created");
                    break;
                case VolumeStatus.Extending:
                    v.Status = VolumeStatus.ErrorExtending;
                    break;
                default:
                    FileBackend.Delete(v.ProviderLocation);
                    db.Attachments.RemoveRange(db.Attachments.Where(a => a.VolumeId == v.Id));
                    db.Volumes.Remove(v);
                    break;
            }
            if (v.Status != VolumeStatus.Deleting) v.Touch(group.UtcNow);
        }
        await db.SaveChangesAsync(ct);
    }

    async Task CreateAsync(FileBackend driver, CreateVolume m, CancellationToken ct)
    {
        var volume = await store.VolumeAsync(m.VolumeId, ct);
        if (volume is null || volume.Status != VolumeStatus.Creating) return;
        var action = UserMessages.CreateVolumeFromBackend;
        UserMessage? failure = null;
        try
        {
            var path = driver.VolumePath(volume.Id);
            if (volume.SourceVolId is { } sourceId)
            {
                var source = await store.VolumeAsync(sourceId, ct)
                    ?? throw new InvalidOperationException($"source volume {sourceId} is gone");
                await driver.CreateCopyAsync(path, source.ProviderLocation!, await FormatOfAsync(source.ProviderLocation!, ct), volume.Size, ct);
                volume.Bootable = source.Bootable;
                volume.ImageMetadata = source.ImageMetadata;
            }
            else if (volume.SnapshotId is { } snapshotId)
            {
                var snapshot = await store.SnapshotAsync(snapshotId, ct)
                    ?? throw new InvalidOperationException($"snapshot {snapshotId} is gone");
                await driver.CreateCopyAsync(path, snapshot.ProviderLocation!, await FormatOfAsync(snapshot.ProviderLocation!, ct), volume.Size, ct);
                var parent = await store.VolumeAsync(snapshot.VolumeId, ct);
                volume.Bootable = parent?.Bootable ?? false;
                volume.ImageMetadata = parent?.ImageMetadata;
            }
            else if (volume.ImageId is { } imageId)
            {
                action = UserMessages.CopyImageToVolume;
                volume.ImageMetadata = await CopyImageAsync(driver, volume, imageId, m, path, ct);
                volume.Bootable = true;
            }
            else await driver.CreateEmptyAsync(volume.Id, volume.Size, ct);
            volume.ProviderLocation = path;
            volume.Status = VolumeStatus.Available;
            volume.LaunchedAt = group.UtcNow;
        }
        catch (ImageUnavailableException e)
        {
            failure = Fail(volume, action, UserMessages.ImageUnavailable, m.RequestId, e.Message);
        }
        catch (ImageTooLargeException e)
        {
            failure = Fail(volume, action, UserMessages.NotEnoughSpaceForImage, m.RequestId, e.Message);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            log.LogError(e, "Creating volume {Volume} failed", volume.Id);
            failure = Fail(volume, action, UserMessages.DriverFailedCreate, m.RequestId, null);
        }
        await SaveOrCleanAsync(volume, failure, ct);
    }

    async Task<string> CopyImageAsync(FileBackend driver, VolumeRow volume, string imageId, CreateVolume m, string path, CancellationToken ct)
    {
        // The API always names the image service; only a create rescheduled after a restart comes without (and without the user's token).
        var endpoint = m.ImageEndpoint ?? throw new ImageUnavailableException("the block storage service restarted before the image was read; create the volume again");
        var image = await images.ShowAsync(endpoint, imageId, m.Token, ct);
        if ((string?)image["status"] != "active") throw new ImageUnavailableException($"image {imageId} is {(string?)image["status"]}, not active");
        var format = QemuFormat((string?)image["disk_format"]);
        if (format == "raw" && driver.Format == "raw")
            // Nothing to convert: the bytes go straight into the volume's file, written once (Cinder downloads, then converts).
            await driver.CreateFromRawAsync(path, tmp => images.DownloadAsync(endpoint, imageId, m.Token, tmp, ct), volume.Size, ct);
        else
        {
            var download = path + ".download";
            try
            {
                await images.DownloadAsync(endpoint, imageId, m.Token, download, ct);
                ImageFit.Check(await FileBackend.VirtualSizeAsync(download, ct, format), volume.Size);
                await driver.CreateCopyAsync(path, download, format, volume.Size, ct);
            }
            finally
            {
                FileBackend.Delete(download);
            }
        }
        // What Cinder copies into volume_glance_metadata: the image's own fields and its properties.
        var meta = new Dictionary<string, string>(StringComparer.Ordinal) { ["image_id"] = imageId };
        string[] skip = ["id", "status", "visibility", "protected", "file", "schema", "self", "locations", "direct_url", "tags", "owner", "created_at", "updated_at", "os_hidden", "os_hash_algo", "os_hash_value", "stores"];
        foreach (var (k, v) in image)
            if (v is JsonValue value && !skip.Contains(k)) meta[k == "name" ? "image_name" : k] = value.ToString();
        return MetadataColumn.Write(meta);
    }

    /// <summary>
    /// Cinder's copy_volume_to_image: the volume's bytes, converted to the image's disk format, into the queued image; the volume
    /// goes back to in-use or available by its attachments, whatever happened; on failure the unfinished image is deleted.
    /// </summary>
    async Task UploadImageAsync(FileBackend driver, UploadImage m, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
        var volume = await db.Volumes.FirstOrDefaultAsync(v => v.Id == m.VolumeId, ct);
        if (volume is null || volume.Status != VolumeStatus.Uploading) return;
        var scratch = driver.VolumePath(volume.Id) + ".upload";
        try
        {
            var source = await driver.ExportAsync(volume.ProviderLocation!, QemuFormat(m.DiskFormat), scratch, ct);
            await images.UploadAsync(m.ImageEndpoint, m.ImageId, m.Token, source, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            log.LogError(e, "Uploading volume {Volume} to image {Image} failed", volume.Id, m.ImageId);
            UserMessages.Add(db, volume.ProjectId, "VOLUME", volume.Id, UserMessages.CopyVolumeToImage, UserMessages.FailedToUploadVolume, group.UtcNow,
                m.RequestId, e is ImageUnavailableException ? e.Message : null);
            try
            {
                await images.DeleteUnfinishedAsync(m.ImageEndpoint, m.ImageId, m.Token, ct);
            }
            catch (ImageUnavailableException gone)
            {
                log.LogWarning("Deleting the unfinished image {Image} failed: {Reason}", m.ImageId, gone.Message);
            }
        }
        finally
        {
            FileBackend.Delete(scratch);
        }
        volume.Status = await db.Attachments.AnyAsync(a => a.VolumeId == volume.Id && a.AttachStatus == "attached", ct) ? VolumeStatus.InUse : VolumeStatus.Available;
        volume.Touch(group.UtcNow);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Glance's disk_format as qemu-img names it.</summary>
    static string QemuFormat(string? diskFormat) => diskFormat switch
    {
        "qcow2" or "vmdk" or "vdi" or "raw" => diskFormat,
        "vhd" => "vpc",
        "vhdx" => "vhdx",
        "ploop" => "parallels",
        _ => "raw",
    };

    static async Task<string> FormatOfAsync(string path, CancellationToken ct)
    {
        var info = JsonNode.Parse(await Core.Processes.HostCommand.RunAsync("qemu-img", ["info", "--output=json", path], ct));
        return (string?)info?["format"] ?? "raw";
    }

    UserMessage Fail(VolumeRow volume, (string, string) action, (string, string) detail, string? requestId, string? reason)
    {
        volume.Status = VolumeStatus.Error;
        return UserMessages.New(volume.ProjectId, "VOLUME", volume.Id, action, detail, group.UtcNow, requestId, reason);
    }

    /// <summary>Saves the outcome; when the API deleted the volume meanwhile (a force delete), the file made is removed.</summary>
    async Task SaveOrCleanAsync(VolumeRow volume, UserMessage? failure, CancellationToken ct)
    {
        if (await store.SaveVolumeAsync(volume, group.UtcNow, ct, failure)) return;
        var current = await store.VolumeAsync(volume.Id, ct);
        if (current is not null && current.Status != VolumeStatus.Deleting) return;
        FileBackend.Delete(volume.ProviderLocation);
        if (current is not null) await store.RemoveVolumeAsync(current.Id, [], ct);
    }

    async Task DeleteAsync(FileBackend driver, string volumeId, CancellationToken ct)
    {
        var volume = await store.VolumeAsync(volumeId, ct);
        if (volume is null || volume.Status != VolumeStatus.Deleting) return;
        try
        {
            // A cascade delete: its snapshots go first, in the same step, as Cinder's delete_volume does.
            var snapshots = (await store.SnapshotsOfAsync(volume.Id, ct)).Where(x => x.Status == "deleting").ToList();
            foreach (var snapshot in snapshots) FileBackend.Delete(snapshot.ProviderLocation);
            FileBackend.Delete(volume.ProviderLocation ?? driver.VolumePath(volume.Id));
            await store.RemoveVolumeAsync(volume.Id, [.. snapshots.Select(s => s.Id)], ct);
        }
        catch (IOException e)
        {
            log.LogError(e, "Deleting volume {Volume} failed", volume.Id);
            volume.Status = VolumeStatus.ErrorDeleting;
            await store.SaveVolumeAsync(volume, group.UtcNow, ct);
        }
    }

    async Task ExtendAsync(FileBackend driver, ExtendVolume m, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
        var volume = await db.Volumes.FirstOrDefaultAsync(v => v.Id == m.VolumeId, ct);
        if (volume is null || volume.Status != VolumeStatus.Extending) return;
        try
        {
            await driver.ExtendAsync(volume.ProviderLocation!, m.NewSize, ct);
            volume.Size = m.NewSize;
            volume.Status = m.ReturnStatus;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            log.LogError(e, "Extending volume {Volume} failed", volume.Id);
            volume.Status = VolumeStatus.ErrorExtending;
            UserMessages.Add(db, volume.ProjectId, "VOLUME", volume.Id, UserMessages.ExtendVolume, UserMessages.DriverFailedExtend, group.UtcNow);
        }
        volume.Touch(group.UtcNow);
        await db.SaveChangesAsync(ct);
    }

    async Task CreateSnapshotAsync(FileBackend driver, string snapshotId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
        var snapshot = await db.Snapshots.FirstOrDefaultAsync(s => s.Id == snapshotId, ct);
        if (snapshot is null || snapshot.Status != "creating") return;
        var volume = await db.Volumes.AsNoTracking().FirstOrDefaultAsync(v => v.Id == snapshot.VolumeId, ct);
        try
        {
            var path = driver.SnapshotPath(snapshot.Id);
            await driver.CreateCopyAsync(path, volume!.ProviderLocation!, await FormatOfAsync(volume.ProviderLocation!, ct), snapshot.VolumeSize, ct);
            snapshot.ProviderLocation = path;
            snapshot.Status = "available";
            snapshot.Progress = "100%";
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            log.LogError(e, "Creating snapshot {Snapshot} failed", snapshot.Id);
            snapshot.Status = "error";
            UserMessages.Add(db, snapshot.ProjectId, "SNAPSHOT", snapshot.Id, UserMessages.SnapshotCreate, UserMessages.SnapshotCreateError, group.UtcNow);
        }
        snapshot.Touch(group.UtcNow);
        await db.SaveChangesAsync(ct);
    }

    async Task DeleteSnapshotAsync(string snapshotId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
        var snapshot = await db.Snapshots.FirstOrDefaultAsync(s => s.Id == snapshotId, ct);
        if (snapshot is null || snapshot.Status != "deleting") return;
        try
        {
            FileBackend.Delete(snapshot.ProviderLocation);
            db.Snapshots.Remove(snapshot);
        }
        catch (IOException e)
        {
            log.LogError(e, "Deleting snapshot {Snapshot} failed", snapshot.Id);
            snapshot.Status = "error_deleting";
            UserMessages.Add(db, snapshot.ProjectId, "SNAPSHOT", snapshot.Id, UserMessages.SnapshotDelete, UserMessages.SnapshotDeleteError, group.UtcNow);
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// A generic group has nothing of its own on a file backend (Cinder's manager falls back the same way when the driver
    /// has no group support): the volumes it copies from a source are made, then it is available, or in error with them.
    /// </summary>
    async Task CreateGroupAsync(FileBackend driver, string groupId, CancellationToken ct)
    {
        List<string> copies;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
            var members = db.GroupVolumes.AsNoTracking().Where(m => m.GroupId == groupId).Select(m => m.VolumeId);
            copies = await db.Volumes.AsNoTracking().Where(v => members.Contains(v.Id) && v.Status == VolumeStatus.Creating).Select(v => v.Id).ToListAsync(ct);
        }
        foreach (var id in copies) await CreateAsync(driver, new CreateVolume(id), ct);
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
            var g = await db.Groups.FirstOrDefaultAsync(x => x.Id == groupId, ct);
            if (g is null || g.Status != "creating") return;
            var failed = await db.Volumes.AnyAsync(v => copies.Contains(v.Id) && v.Status == VolumeStatus.Error, ct);
            g.Status = failed ? "error" : "available";
            g.Touch(group.UtcNow);
            await db.SaveChangesAsync(ct);
        }
    }

    /// <summary>The group's volumes (the API marked them deleting) go, then the group; a volume that cannot be deleted leaves the group in error_deleting.</summary>
    async Task DeleteGroupAsync(FileBackend driver, string groupId, CancellationToken ct)
    {
        List<string> members;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
            members = await db.GroupVolumes.AsNoTracking().Where(m => m.GroupId == groupId).Select(m => m.VolumeId).ToListAsync(ct);
        }
        foreach (var id in members) await DeleteAsync(driver, id, ct);
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
            var g = await db.Groups.FirstOrDefaultAsync(x => x.Id == groupId, ct);
            if (g is null || g.Status != "deleting") return;
            var left = await db.Volumes.Where(v => members.Contains(v.Id)).Select(v => v.Id).ToListAsync(ct);
            db.GroupVolumes.RemoveRange(db.GroupVolumes.Where(m => m.GroupId == groupId && !left.Contains(m.VolumeId)));
            if (left.Count > 0)
            {
                g.Status = "error_deleting";
                g.Touch(group.UtcNow);
            }
            else db.Groups.Remove(g);
            await db.SaveChangesAsync(ct);
        }
    }

    async Task CreateGroupSnapshotAsync(FileBackend driver, string groupSnapshotId, CancellationToken ct)
    {
        List<string> snapshots;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
            snapshots = await db.GroupSnapshotMembers.AsNoTracking().Where(m => m.GroupSnapshotId == groupSnapshotId).Select(m => m.SnapshotId).ToListAsync(ct);
        }
        foreach (var id in snapshots) await CreateSnapshotAsync(driver, id, ct);
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
            var gs = await db.GroupSnapshots.FirstOrDefaultAsync(x => x.Id == groupSnapshotId, ct);
            if (gs is null || gs.Status != "creating") return;
            gs.Status = await db.Snapshots.AnyAsync(s => snapshots.Contains(s.Id) && s.Status != "available", ct) ? "error" : "available";
            gs.UpdatedAt = group.UtcNow;
            await db.SaveChangesAsync(ct);
        }
    }

    async Task DeleteGroupSnapshotAsync(string groupSnapshotId, CancellationToken ct)
    {
        List<string> snapshots;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
            snapshots = await db.GroupSnapshotMembers.AsNoTracking().Where(m => m.GroupSnapshotId == groupSnapshotId).Select(m => m.SnapshotId).ToListAsync(ct);
        }
        foreach (var id in snapshots) await DeleteSnapshotAsync(id, ct);
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
            var gs = await db.GroupSnapshots.FirstOrDefaultAsync(x => x.Id == groupSnapshotId, ct);
            if (gs is null || gs.Status != "deleting") return;
            var left = await db.Snapshots.Where(s => snapshots.Contains(s.Id)).Select(s => s.Id).ToListAsync(ct);
            db.GroupSnapshotMembers.RemoveRange(db.GroupSnapshotMembers.Where(m => m.GroupSnapshotId == groupSnapshotId && !left.Contains(m.SnapshotId)));
            if (left.Count > 0)
            {
                gs.Status = "error_deleting";
                gs.UpdatedAt = group.UtcNow;
            }
            else db.GroupSnapshots.Remove(gs);
            await db.SaveChangesAsync(ct);
        }
    }

    async Task<VolumeConnection> InitializeConnectionAsync(FileBackend driver, InitializeConnection m, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CinderDb>();
        var volume = await db.Volumes.AsNoTracking().FirstOrDefaultAsync(v => v.Id == m.VolumeId, ct)
            ?? throw new InvalidOperationException($"volume {m.VolumeId} is gone");
        var info = driver.ConnectionInfo(volume, m.Connector);
        var qos = await (from a in db.VolumeTypeQos.AsNoTracking()
                         join q in db.QosSpecs.AsNoTracking() on a.QosSpecsId equals q.Id
                         where a.VolumeTypeId == volume.VolumeTypeId
                         select q).FirstOrDefaultAsync(ct);
        info["data"]!["qos_specs"] = FrontEndQos(qos, volume.Size);
        return new VolumeConnection(info.ToJsonString());
    }

    static readonly string[] TuneOptions = ["read_iops_sec", "read_bytes_sec", "write_iops_sec", "write_bytes_sec", "total_iops_sec", "total_bytes_sec"];

    /// <summary>
    /// The QoS specs the hypervisor applies (Cinder's _parse_connection_options): those of a front-end or both consumer,
    /// with each <c>X_per_gb</c> turned into X for the volume's size, at least <c>X_per_gb_min</c> and at most <c>X_max</c>.
    /// </summary>
    internal static JsonObject? FrontEndQos(QosSpecs? qos, int volumeSize)
    {
        if (qos is null || qos.Consumer is not ("front-end" or "both")) return null;
        var specs = MetadataColumn.View(qos.Specs);
        long Take(string key, long fallback) => specs.Remove(key, out var v) && long.TryParse((string?)v, System.Globalization.NumberStyles.AllowLeadingSign,
            System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : fallback;
        foreach (var option in TuneOptions)
        {
            if (!specs.ContainsKey(option + "_per_gb")) continue;
            var value = Math.Max(Take(option + "_per_gb_min", 0), Take(option + "_per_gb", 0) * volumeSize);
            specs[option] = Math.Min(value, Take(option + "_max", value));
        }
        return specs;
    }
}

public sealed class ImageTooLargeException(string message) : Exception(message);

/// <summary>Cinder's check that an image's virtual size fits the volume made from it.</summary>
static class ImageFit
{
    public static void Check(long virtualSize, int volumeGb)
    {
        if (virtualSize > (long)volumeGb << 30)
            throw new ImageTooLargeException($"Image virtual size is {Math.Ceiling(virtualSize / (double)(1L << 30))}GB and doesn't fit in a volume of size {volumeGb}GB.");
    }
}
