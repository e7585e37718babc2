using System.Globalization;
using System.Text.Json;
using Stratus.Compute.Api;
using Stratus.Compute.Images;
using Stratus.Compute.Rpc;
using Stratus.Compute.Volumes;

namespace Stratus.Compute.Servers;

/// <summary>A create's block device, as Nova's from_api reads block_device_mapping_v2.</summary>
public sealed record RequestedBlockDevice(string Source, string Destination, string? Uuid, int? BootIndex, int? VolumeSize, bool DeleteOnTermination,
    string? Tag, string? VolumeType);

/// <summary>
/// A create's <c>block_device_mapping_v2</c>, checked as Nova's schema and compute.API._validate_bdm check it:
/// volumes given (reserved for the server here), and volumes the build makes from an image, a snapshot or
/// nothing. Local disks other than the image's root (ephemeral, swap) are not offered by this cloud.
/// </summary>
static class BlockDevices
{
    static readonly string[] Keys =
    [
        "source_type", "uuid", "image_id", "destination_type", "guest_format", "device_type", "disk_bus", "boot_index", "device_name",
        "delete_on_termination", "no_device", "connection_info", "volume_id", "snapshot_id", "volume_size", "tag", "volume_type",
    ];

    static OpenStackError Invalid(string why) => OpenStackError.BadRequest("Block Device Mapping is Invalid: " + why);

    const string BadSequence = "Boot sequence for the instance and image/block device mapping combination is not valid.";

    /// <summary>The requested devices, with the image's local root (boot index 0) when the create has an image and no boot volume.</summary>
    public static List<RequestedBlockDevice> Parse(JsonObject body, ApiVersionRequest v, string imageRef)
    {
        if (body.ContainsKey("block_device_mapping") && body.ContainsKey("block_device_mapping_v2"))
            throw OpenStackError.BadRequest("Using different block_device_mapping syntaxes is not allowed in the same request.");
        if (body.ContainsKey("block_device_mapping"))
            throw OpenStackError.BadRequest("The legacy block_device_mapping is not supported here: use block_device_mapping_v2.");
        var devices = new List<RequestedBlockDevice>();
        if (body["block_device_mapping_v2"] is { } node)
        {
            if (node is not JsonArray items) throw NovaBody.Invalid("block_device_mapping_v2", node, "is not of type 'array'");
            foreach (var item in items)
                devices.Add(One(item as JsonObject ?? throw NovaBody.Invalid("block_device_mapping_v2", item, "is not of type 'object'"), v));
        }
        if (imageRef.Length > 0 && !devices.Any(d => d.BootIndex == 0))
            devices.Insert(0, new RequestedBlockDevice("image", "local", imageRef, 0, null, true, null, null));
        var boots = devices.Where(d => d.BootIndex is >= 0).Select(d => d.BootIndex!.Value).Order().ToList();
        if (boots.Count == 0 || boots.Where((b, i) => b != i).Any()) throw Invalid(BadSequence);
        return devices;
    }

    static RequestedBlockDevice One(JsonObject d, ApiVersionRequest v)
    {
        d.Only("block_device_mapping_v2", [.. Keys]);
        if (d.ContainsKey("tag") && !v.AtLeast(42)) throw NovaBody.Invalid("block_device_mapping_v2", d, "Additional properties are not allowed ('tag' was unexpected)");
        if (d.ContainsKey("volume_type") && !v.AtLeast(67))
            throw NovaBody.Invalid("block_device_mapping_v2", d, "Additional properties are not allowed ('volume_type' was unexpected)");
        var source = d.OptionalString("source_type") ?? throw Invalid("Missing source_type field.");
        if (source is not ("volume" or "image" or "snapshot" or "blank"))
            throw NovaBody.Invalid("block_device_mapping_v2/source_type", d["source_type"], "is not one of ['volume', 'image', 'snapshot', 'blank']");
        var destination = d.OptionalString("destination_type") ?? (source is "volume" or "snapshot" ? "volume" : "local");
        if (destination is not ("local" or "volume"))
            throw NovaBody.Invalid("block_device_mapping_v2/destination_type", d["destination_type"], "is not one of ['local', 'volume']");
        var uuid = d.OptionalString("uuid", 255) ?? d.OptionalString($"{source}_id");
        if (source == "blank" && uuid is not null) throw Invalid("Invalid device UUID.");
        if (source != "blank" && uuid is null) throw Invalid("Missing device UUID.");
        int? bootIndex = d["boot_index"] is { } b && b.GetValueKind() != JsonValueKind.Null
            ? int.TryParse(b.ToString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) ? i
                : throw NovaBody.Invalid("block_device_mapping_v2/boot_index", b, "does not match '^-?[0-9]+$'")
            : null;
        int? size = d["volume_size"] is { } s && s.GetValueKind() != JsonValueKind.Null
            ? int.TryParse(s.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
                : throw NovaBody.Invalid("block_device_mapping_v2/volume_size", s, "is not valid under any of the given schemas")
            : null;
        var deleteOnTermination = d.ContainsKey("delete_on_termination") && NovaBody.Bool("delete_on_termination", d["delete_on_termination"]);
        if (destination == "local" && !(source == "image" && bootIndex == 0))
            throw Invalid(source == "image" ? "Mapping image to local is not supported." : "Ephemeral and swap disks are not offered by this cloud: use a volume.");
        if (destination == "volume" && source is "image" or "blank" && size is not > 0)
            throw Invalid(source == "image" ? "Images with destination_type 'volume' need to have a non-zero size specified"
                : "Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size");
        return new RequestedBlockDevice(source, destination, uuid, bootIndex, size, deleteOnTermination, d.OptionalString("tag", 60), d.OptionalString("volume_type", 255));
    }

    /// <summary>The boot device is a volume: the server has no root disk from an image.</summary>
    public static bool VolumeBacked(IReadOnlyList<RequestedBlockDevice> devices) => devices.Any(d => d.BootIndex == 0 && d.Destination == "volume");

    /// <summary>What each device names must be there for the caller: the volume (and free to attach), the snapshot, the image.</summary>
    public static async Task CheckAsync(IReadOnlyList<RequestedBlockDevice> devices, int count, ImageClient images, CinderClient cinder, Caller caller,
        CancellationToken ct)
    {
        foreach (var d in devices.Where(d => d.Destination == "volume"))
        {
            var project = caller.ProjectId!;
            switch (d.Source)
            {
                case "volume":
                    if (count > 1) throw OpenStackError.BadRequest("Cannot attach one or more volumes to multiple instances");
                    var volume = await VolumeAttachmentsApi.CallAsync(() => cinder.GetVolumeAsync(d.Uuid!, caller.Token, project, ct))
                        ?? throw Invalid($"failed to get volume {d.Uuid}.");
                    // block_device.get_bdm_image_metadata: the boot volume must be marked bootable (Cinder says "true"/"false").
                    if (d.BootIndex == 0 && string.Equals(volume["bootable"]?.ToString(), "false", StringComparison.OrdinalIgnoreCase))
                        throw Invalid($"Block Device {d.Uuid} is not bootable.");
                    if ((string?)volume["status"] != "available" && (bool?)volume["multiattach"] != true)
                        throw OpenStackError.BadRequest($"Invalid volume: volume {d.Uuid} status must be available, but the current status is {(string?)volume["status"]}.");
                    break;
                case "snapshot":
                    if (await VolumeAttachmentsApi.CallAsync(() => cinder.SendAsync(HttpMethod.Get, $"/snapshots/{Uri.EscapeDataString(d.Uuid!)}", null, caller.Token, project, ct)) is null)
                        throw Invalid($"failed to get snapshot {d.Uuid}.");
                    break;
                case "image":
                    if (await images.ShowAsync(d.Uuid!, caller.Token, ct) is null) throw Invalid($"failed to get image {d.Uuid}.");
                    break;
            }
        }
    }

    /// <summary>
    /// The server's mappings: a given volume is reserved for it now (block storage's attachment, as Nova's
    /// _check_attach_and_reserve_volume); the others get their volume at build.
    /// </summary>
    public static async Task<List<BlockDeviceMapping>> ReserveAsync(IReadOnlyList<RequestedBlockDevice> devices, string instanceUuid, CinderClient cinder,
        Caller caller, CancellationToken ct)
    {
        var mappings = new List<BlockDeviceMapping>();
        // vda is the root disk: the boot volume, or the image's (then the volumes start at vdb).
        var letter = VolumeBacked(devices) ? 'a' : 'b';
        foreach (var d in devices.Where(d => d.Destination == "volume").OrderBy(d => d.BootIndex is >= 0 ? d.BootIndex : int.MaxValue))
        {
            var mapping = new BlockDeviceMapping
            {
                Uuid = Guid.NewGuid().ToString(), InstanceUuid = instanceUuid, SourceType = d.Source, DestinationType = d.Destination,
                VolumeId = d.Source == "volume" ? d.Uuid : null, ImageId = d.Source == "image" ? d.Uuid : null, SnapshotId = d.Source == "snapshot" ? d.Uuid : null,
                VolumeSize = d.VolumeSize, VolumeType = d.VolumeType, BootIndex = d.BootIndex, DeleteOnTermination = d.DeleteOnTermination, Tag = d.Tag,
                DeviceName = $"/dev/vd{letter++}", CreatedAt = DateTime.UtcNow,
            };
            if (mapping.VolumeId is { } volumeId)
                mapping.AttachmentId = await VolumeAttachmentsApi.CallAsync(() => cinder.CreateAttachmentAsync(volumeId, instanceUuid, caller.Token, caller.ProjectId!, ct));
            mappings.Add(mapping);
        }
        return mappings;
    }

    /// <summary>What the host needs of a mapping to make, connect and plug its volume.</summary>
    public static BlockDevice ToBuild(BlockDeviceMapping b) =>
        new(b.Uuid, b.SourceType, b.VolumeId, b.ImageId, b.SnapshotId, b.VolumeSize, b.VolumeType, b.AttachmentId, b.BootIndex == 0) { DeviceName = b.DeviceName };
}
