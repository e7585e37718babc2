using System.Globalization;
using Stratus.Core.Processes;

namespace Stratus.BlockStorage.Backends;

/// <summary>
/// Volumes as files under the backend's directory, through <c>qemu-img</c>: <c>volume-ID</c> for a volume and
/// <c>snapshot-ID</c> for a snapshot (a full copy, so volumes and snapshots can be deleted in any order).
/// Every file is made under a temporary name and renamed when complete, so a crash leaves no half volume
/// under a real name; <see cref="Reconcile"/> removes the leftovers.
/// </summary>
public sealed class FileBackend(BackendOptions options)
{
    const string VendorName = "Stratus", DriverVersion = "1.0", StorageProtocol = "local";

    public BackendOptions Options => options;
    public string Format => options.Format;

    public string VolumePath(string volumeId) => Path.Combine(options.VolumesDir, "volume-" + volumeId);
    public string SnapshotPath(string snapshotId) => Path.Combine(options.VolumesDir, "snapshot-" + snapshotId);

    public async Task<string> CreateEmptyAsync(string volumeId, int sizeGb, CancellationToken ct)
    {
        var path = VolumePath(volumeId);
        await CompleteAsync(path, tmp => QemuImg(ct, "create", "-q", "-f", Format, tmp, Gb(sizeGb)), ct);
        return path;
    }

    /// <summary>A copy of <paramref name="source"/> (a volume, a snapshot or a downloaded image in <paramref name="sourceFormat"/>), grown to <paramref name="sizeGb"/>.</summary>
    public async Task<string> CreateCopyAsync(string path, string source, string sourceFormat, int sizeGb, CancellationToken ct)
    {
        await CompleteAsync(path, async tmp =>
        {
            await QemuImg(ct, "convert", "-q", "-f", sourceFormat, "-O", Format, source, tmp);
            if (await VirtualSizeAsync(tmp, ct) < (long)sizeGb << 30) await QemuImg(ct, "resize", "-q", "-f", Format, tmp, Gb(sizeGb));
        }, ct);
        return path;
    }

    /// <summary>A raw volume from raw bytes <paramref name="write"/> puts in its (temporary) file, which then grows, sparse, to the volume's size.</summary>
    public async Task<string> CreateFromRawAsync(string path, Func<string, Task> write, int sizeGb, CancellationToken ct)
    {
        await CompleteAsync(path, async tmp =>
        {
            await write(tmp);
            await using var file = new FileStream(tmp, FileMode.Open, FileAccess.Write);
            Volume.ImageFit.Check(file.Length, sizeGb);
            file.SetLength((long)sizeGb << 30);
        }, ct);
        return path;
    }

    /// <summary>
    /// The volume's bytes in <paramref name="diskFormat"/> (qemu-img's name): the volume's own file when it is in that
    /// format already, else a converted copy at <paramref name="scratch"/>, which the caller deletes.
    /// </summary>
    public async Task<string> ExportAsync(string path, string diskFormat, string scratch, CancellationToken ct)
    {
        if (diskFormat == Format) return path;
        await QemuImg(ct, "convert", "-q", "-f", Format, "-O", diskFormat, path, scratch);
        return scratch;
    }

    public async Task ExtendAsync(string path, int sizeGb, CancellationToken ct) => await QemuImg(ct, "resize", "-q", "-f", Format, path, Gb(sizeGb));

    public static void Delete(string? path)
    {
        if (path is not null && File.Exists(path)) File.Delete(path);
    }

    /// <summary>The size the image's guest sees (<c>qemu-img info</c>'s virtual-size).</summary>
    public static async Task<long> VirtualSizeAsync(string path, CancellationToken ct, string? format = null)
    {
        string[] args = format is null ? ["info", "--output=json", path] : ["info", "--output=json", "-f", format, path];
        var info = JsonNode.Parse(await HostCommand.RunAsync("qemu-img", args, ct));
        return (long?)info?["virtual-size"] ?? 0;
    }

    /// <summary>What os-brick's local connector attaches: the file itself.</summary>
    public JsonObject ConnectionInfo(VolumeRow volume, string? connector) => new()
    {
        ["driver_volume_type"] = "local",
        ["data"] = new JsonObject
        {
            ["device_path"] = volume.ProviderLocation ?? VolumePath(volume.Id),
            ["format"] = Format,
            ["volume_id"] = volume.Id,
            ["name"] = "volume-" + volume.Id,
            ["access_mode"] = volume.ReadOnly ? "ro" : "rw",
            ["encrypted"] = false,
            ["discard"] = false,
        },
    };

    /// <summary>What the backend reports to the scheduler (Cinder's get_volume_stats): what volume types' extra specs match against.</summary>
    public static IReadOnlyDictionary<string, string> Capabilities(string backendName) => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["volume_backend_name"] = backendName,
        ["vendor_name"] = VendorName,
        ["driver_version"] = DriverVersion,
        ["storage_protocol"] = StorageProtocol,
        ["multiattach"] = "True",
        ["thin_provisioning_support"] = "True",
        ["thick_provisioning_support"] = "False",
    };

    /// <summary>
    /// Cinder's get_volume_stats: what the backend is, and its one pool (named after the backend) with the capacity of the
    /// file system under <c>file_volumes_dir</c> and what its volumes take of it.
    /// </summary>
    public JsonObject Stats(int allocatedGb, int volumeCount)
    {
        Directory.CreateDirectory(options.VolumesDir);
        var drive = new DriveInfo(Path.GetFullPath(options.VolumesDir));
        static double Gib(long bytes) => Math.Round(bytes / (double)(1L << 30), 2);
        return new JsonObject
        {
            ["volume_backend_name"] = options.BackendName,
            ["vendor_name"] = VendorName,
            ["driver_version"] = DriverVersion,
            ["storage_protocol"] = StorageProtocol,
            ["pools"] = new JsonArray(new JsonObject
            {
                ["pool_name"] = options.BackendName,
                ["total_capacity_gb"] = Gib(drive.TotalSize),
                ["free_capacity_gb"] = Gib(drive.AvailableFreeSpace),
                ["allocated_capacity_gb"] = allocatedGb,
                ["provisioned_capacity_gb"] = allocatedGb,
                ["reserved_percentage"] = 0,
                ["max_over_subscription_ratio"] = "20.0",
                ["thin_provisioning_support"] = true,
                ["thick_provisioning_support"] = false,
                ["total_volumes"] = volumeCount,
                ["multiattach"] = true,
                ["QoS_support"] = false,
                ["backend_state"] = "up",
            }),
        };
    }

    /// <summary>Cinder's driver capabilities: the stats and the standard properties volume types' extra specs may set.</summary>
    public JsonObject CapabilitiesWithProperties(int allocatedGb, int volumeCount)
    {
        var c = Stats(allocatedGb, volumeCount);
        static JsonObject Property(string title, string description) => new() { ["title"] = title, ["description"] = description, ["type"] = "boolean" };
        c["properties"] = new JsonObject
        {
            ["thin_provisioning"] = Property("Thin Provisioning", "Sets thin provisioning."),
            ["compression"] = Property("Compression", "Enables compression."),
            ["qos"] = Property("QoS", "Enables QoS."),
            ["replication_enabled"] = Property("Replication", "Enables replication."),
        };
        return c;
    }

    /// <summary>Removes the temporary files of creates a crash interrupted.</summary>
    public void Reconcile()
    {
        Directory.CreateDirectory(options.VolumesDir);
        foreach (var tmp in Directory.EnumerateFiles(options.VolumesDir, "*.tmp")) File.Delete(tmp);
    }

    static async Task CompleteAsync(string path, Func<string, Task> make, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var tmp = path + ".tmp";
        try
        {
            await make(tmp);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
        ct.ThrowIfCancellationRequested();
    }

    static string Gb(int size) => size.ToString(CultureInfo.InvariantCulture) + "G";

    static Task<string> QemuImg(CancellationToken ct, params string[] args) => HostCommand.RunAsync("qemu-img", args, ct);
}
