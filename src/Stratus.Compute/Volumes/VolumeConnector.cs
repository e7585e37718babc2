using Stratus.Compute.Virt;

namespace Stratus.Compute.Volumes;

/// <summary>What a compute host tells block storage about itself, and what it makes of the connection it gets back (os-brick's part in Nova).</summary>
public static class VolumeConnector
{
    /// <summary>os-brick's get_connector_properties for this host: its address and name, no initiator (local attachments only).</summary>
    public static JsonObject For(NovaOptions options) => new()
    {
        ["platform"] = "x86_64", ["os_type"] = "linux", ["ip"] = options.MyIp, ["host"] = options.Host, ["multipath"] = false, ["do_local_attach"] = false,
    };

    /// <summary>
    /// The disk a connection info names: os-brick's LOCAL connector (<c>device_path</c>: a file or block device
    /// on this host), also under Stratus' "file" type. Other transports (iSCSI, NFS...) are not attached here.
    /// </summary>
    public static DiskSpec Disk(string volumeId, JsonObject connectionInfo)
    {
        var type = (string?)connectionInfo["driver_volume_type"];
        var data = connectionInfo["data"] as JsonObject ?? [];
        var path = (string?)data["device_path"] ?? (string?)data["path"];
        if (type?.ToLowerInvariant() is not ("local" or "file") || path is null)
            throw new VirtException($"Volume {volumeId}: this host attaches local files and block devices, not a '{type}' connection.");
        return new DiskSpec(path, (string?)data["format"] ?? "raw", volumeId);
    }
}
