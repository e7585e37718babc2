using Microsoft.Extensions.Logging;
using Stratus.Compute.Rpc;
using Stratus.Compute.Virt;

namespace Stratus.Compute.Volumes;

/// <summary>
/// A compute host's side of its servers' volumes, as Nova's compute manager and driver_block_device do it: the
/// volumes a build needs made and connected, attachments connected and hot-plugged or unplugged and deleted, and a
/// deleted server's volumes released. Block storage decides; the conductor records the mappings.
/// </summary>
public sealed class HostVolumes(CinderClient cinder, IVirtDriver driver, ConductorApi conductor, NovaOptions options, ILogger<HostVolumes> log)
{
    /// <summary>
    /// Nova's _prep_block_device: each mapping's volume made when it does not exist yet (from its image, snapshot or
    /// nothing, waited for as block_device_allocate_retries says), attached from this host and recorded by the conductor.
    /// </summary>
    public async Task<List<DiskSpec>> PrepareAsync(BuildAndRunInstance build, CancellationToken ct)
    {
        var disks = new List<DiskSpec>();
        if (build.BlockDevices.Count == 0) return disks;
        var token = build.Token ?? throw new CinderException(0, "the build has no user token to reach block storage with");
        foreach (var d in build.BlockDevices)
        {
            var volumeId = d.VolumeId;
            if (volumeId is null)
            {
                volumeId = await CreateVolumeAsync(build, d, token, ct);
                await conductor.CallAsync(new BlockDeviceReady(d.BdmUuid, volumeId, null, null), ct);
            }
            var attachmentId = d.AttachmentId ?? await cinder.CreateAttachmentAsync(volumeId, build.Uuid, token, build.ProjectId, ct);
            var connection = await cinder.UpdateAttachmentAsync(attachmentId, VolumeConnector.For(options), d.DeviceName, token, build.ProjectId, ct);
            await cinder.CompleteAttachmentAsync(attachmentId, token, build.ProjectId, ct);
            await conductor.CallAsync(new BlockDeviceReady(d.BdmUuid, volumeId, attachmentId, connection.ToJsonString()), ct);
            disks.Add(VolumeConnector.Disk(volumeId, connection) with { Boot = d.Boot });
        }
        return disks;
    }

    async Task<string> CreateVolumeAsync(BuildAndRunInstance build, BlockDevice d, string token, CancellationToken ct)
    {
        var request = new JsonObject { ["size"] = d.VolumeSize, ["name"] = $"{build.Uuid}-{d.Source}-vol" };
        if (d.ImageId is not null) request["imageRef"] = d.ImageId;
        if (d.SnapshotId is not null) request["snapshot_id"] = d.SnapshotId;
        if (d.VolumeType is not null) request["volume_type"] = d.VolumeType;
        var created = await cinder.SendAsync(HttpMethod.Post, "/volumes", new JsonObject { ["volume"] = request }, token, build.ProjectId, ct);
        var id = (string?)created?["volume"]?["id"] ?? throw new CinderException(500, "block storage made a volume without an id");
        // nova's _await_block_device_map_created.
        var status = "creating";
        for (var attempt = 1; attempt <= options.BlockDeviceAllocateRetries; attempt++)
        {
            status = (string?)(await cinder.GetVolumeAsync(id, token, build.ProjectId, ct))?["status"] ?? "deleted";
            if (status == "available") return id;
            if (status is "error" or "deleted") break;
            await Task.Delay(options.BlockDeviceAllocateRetriesInterval, ct);
        }
        throw new CinderException(500, $"Volume {id} did not finish being created even after we waited " +
            $"{options.BlockDeviceAllocateRetries * options.BlockDeviceAllocateRetriesInterval.TotalSeconds:0} seconds or {options.BlockDeviceAllocateRetries} attempts. " +
            $"And its status is {status}.");
    }

    /// <summary>
    /// Nova's attach_volume with a new-style attachment: this host's connector gets the connection info, the disk is
    /// hot-plugged, the attachment completed (the volume in-use). Any failure deletes the attachment, freeing the volume.
    /// </summary>
    public async Task<string> AttachAsync(AttachVolume m, CancellationToken ct)
    {
        var uuid = Guid.Parse(m.Uuid);
        var plugged = false;
        try
        {
            var connection = await cinder.UpdateAttachmentAsync(m.AttachmentId, VolumeConnector.For(options), m.Mountpoint, m.Token, m.ProjectId, ct);
            await driver.AttachVolumeAsync(uuid, VolumeConnector.Disk(m.VolumeId, connection), ct);
            plugged = true;
            await cinder.CompleteAttachmentAsync(m.AttachmentId, m.Token, m.ProjectId, ct);
            return connection.ToJsonString();
        }
        catch (Exception e) when (e is CinderException or VirtException)
        {
            log.LogError("[instance: {Uuid}] Failed to attach volume {Volume}: {Error}", m.Uuid, m.VolumeId, e.Message);
            if (plugged) await IgnoringAsync(() => driver.DetachVolumeAsync(uuid, m.VolumeId, TimeSpan.FromSeconds(20), CancellationToken.None));
            await IgnoringAsync(() => cinder.DeleteAttachmentAsync(m.AttachmentId, m.Token, m.ProjectId, CancellationToken.None));
            throw;
        }
    }

    /// <summary>Nova's detach_volume: the guest lets go of the disk, then the attachment goes; if the guest does not, the volume is in-use again.</summary>
    public async Task DetachAsync(DetachVolume m, CancellationToken ct)
    {
        try
        {
            await driver.DetachVolumeAsync(Guid.Parse(m.Uuid), m.VolumeId, TimeSpan.FromSeconds(60), ct);
        }
        catch (Exception e) when (e is VirtException or InstanceNotFoundException)
        {
            log.LogError("[instance: {Uuid}] Failed to detach volume {Volume}: {Error}", m.Uuid, m.VolumeId, e.Message);
            if (e is VirtException)
            {
                await IgnoringAsync(() => cinder.RollDetachingAsync(m.VolumeId, m.Token, m.ProjectId, CancellationToken.None));
                return;
            }
        }
        await IgnoringAsync(() => cinder.DeleteAttachmentAsync(m.AttachmentId, m.Token, m.ProjectId, CancellationToken.None));
        await conductor.CastAsync(new VolumeDetached(m.Uuid, m.VolumeId), ct);
    }

    /// <summary>A deleted server's volumes: their attachments deleted, and the volumes marked delete_on_termination deleted.</summary>
    public async Task ReleaseAsync(TerminateInstance m, CancellationToken ct)
    {
        if (m.Token is not { } token) return;
        foreach (var v in m.Volumes) await IgnoringAsync(() => cinder.ReleaseAsync(v, token, m.ProjectId, ct));
    }

    /// <summary>A clean-up step whose failure is logged, not raised: what it leaves is the block storage service's to report.</summary>
    async Task IgnoringAsync(Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (Exception e) when (e is CinderException or VirtException)
        {
            log.LogWarning("Clean-up step failed: {Error}", e.Message);
        }
    }
}
