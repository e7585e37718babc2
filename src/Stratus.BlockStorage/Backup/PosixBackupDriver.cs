using System.Globalization;
using System.Security.Cryptography;
using Stratus.Core.Processes;

namespace Stratus.BlockStorage.Backup;

/// <summary>
/// Cinder's posix backup driver, in the chunked driver's shape: a backup is a directory (its container, by default
/// <c>id[0:2]/id[2:4]/id</c> under <c>backup_posix_path</c>) holding the volume's bytes as objects
/// <c>PREFIX-NNNNN</c> of <see cref="ChunkSize"/> each, and <c>PREFIX_metadata</c>: the object of every chunk, its
/// sha256 and what the volume carried (metadata, bootable, image metadata). A chunk of zeros has no object; a chunk
/// an incremental backup shares with its parent names the parent's object. The metadata file is written last under
/// a temporary name, so a backup without one is incomplete and its objects are removed.
/// </summary>
public sealed class PosixBackupDriver(string root)
{
    public const int ChunkSize = 4 << 20;
    public const string Name = CinderOptions.PosixBackupDriver;

    public string Root => root;

    /// <summary>The posix driver's container when the user names none (it is recorded on the backup, so an imported record finds it).</summary>
    public static string DefaultContainer(string backupId) => Path.Combine(backupId[..2], backupId[2..4], backupId);

    /// <summary>The backup's directory; a container that leaves <c>backup_posix_path</c> is refused.</summary>
    public string ContainerPath(BackupRow backup)
    {
        var container = backup.Container is { Length: > 0 } c ? c : DefaultContainer(backup.Id);
        var full = Path.GetFullPath(Path.Combine(root, container));
        var rootFull = Path.GetFullPath(root);
        if (!full.StartsWith(rootFull + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidOperationException($"container {container} is outside backup_posix_path");
        return full;
    }

    /// <summary>Cinder's object prefix: <c>volume_VOLUME_TIMESTAMP_backup_ID</c>.</summary>
    public static string Prefix(BackupRow backup, DateTime now) =>
        $"volume_{backup.VolumeId}_{now.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)}_backup_{backup.Id}";

    string MetadataPath(BackupRow backup) => Path.Combine(ContainerPath(backup), backup.ServiceMetadata + "_metadata");

    public bool Exists(BackupRow backup) => backup.ServiceMetadata is not null && File.Exists(MetadataPath(backup));

    /// <summary>
    /// Writes the bytes of <paramref name="devicePath"/> (in <paramref name="format"/>) as the objects of
    /// <paramref name="backup"/>, whose <see cref="BackupRow.ServiceMetadata"/> is set; returns the number of objects written.
    /// </summary>
    public async Task<int> BackupAsync(BackupRow backup, BackupRow? parent, string devicePath, string format, JsonObject volumeMeta, CancellationToken ct)
    {
        var dir = ContainerPath(backup);
        Directory.CreateDirectory(dir);
        var parentManifest = parent is null ? null : Read(parent);
        var written = new List<string>();
        string? converted = null;
        try
        {
            var source = devicePath;
            if (format != "raw")
            {
                converted = Path.Combine(dir, backup.ServiceMetadata + ".raw.tmp");
                await HostCommand.RunAsync("qemu-img", ["convert", "-q", "-f", format, "-O", "raw", devicePath, converted], ct);
                source = converted;
            }
            var objects = new JsonArray();
            var shas = new JsonArray();
            var buffer = new byte[ChunkSize];
            await using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, useAsync: true))
            {
                for (var index = 0; ; index++)
                {
                    var n = await input.ReadAtLeastAsync(buffer, ChunkSize, throwOnEndOfStream: false, ct);
                    if (n == 0) break;
                    var chunk = buffer.AsMemory(0, n);
                    var sha = chunk.Span.IndexOfAnyExcept((byte)0) < 0 ? null : Convert.ToHexStringLower(SHA256.HashData(chunk.Span));
                    shas.Add(sha);
                    if (parentManifest is not null && index < Count(parentManifest, "sha256s") && (string?)parentManifest["sha256s"]![index] == sha)
                        objects.Add(parentManifest["objects"]![index]?.DeepClone());
                    else if (sha is null)
                        objects.Add(null);
                    else
                    {
                        var name = $"{backup.ServiceMetadata}-{index + 1:D5}";
                        written.Add(name);
                        await WriteAtomicAsync(Path.Combine(dir, name), chunk, ct);
                        objects.Add(new JsonObject { ["container"] = Path.GetRelativePath(root, dir), ["name"] = name, ["length"] = n });
                    }
                    if (n < ChunkSize) break;
                }
            }
            var manifest = new JsonObject
            {
                ["version"] = "1.0.0",
                ["backup_id"] = backup.Id,
                ["volume_id"] = backup.VolumeId,
                ["parent_id"] = parent?.Id,
                ["chunk_size"] = ChunkSize,
                ["objects"] = objects,
                ["sha256s"] = shas,
                ["volume_meta"] = volumeMeta.DeepClone(),
            };
            await WriteAtomicAsync(MetadataPath(backup), System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString()), ct);
            return written.Count;
        }
        catch
        {
            foreach (var name in written) File.Delete(Path.Combine(dir, name));
            RemoveEmptyDirectories(dir);
            throw;
        }
        finally
        {
            if (converted is not null) File.Delete(converted);
        }
    }

    /// <summary>Writes the backup's bytes over the volume at <paramref name="devicePath"/>; returns what the volume carried.</summary>
    public async Task<JsonObject> RestoreAsync(BackupRow backup, string devicePath, string format, CancellationToken ct)
    {
        var manifest = Read(backup) ?? throw new InvalidOperationException($"backup {backup.Id} has no metadata object in {ContainerPath(backup)}");
        var target = format == "raw" ? devicePath : Path.Combine(ContainerPath(backup), backup.ServiceMetadata + ".restore.tmp");
        try
        {
            await using (var output = new FileStream(target, format == "raw" ? FileMode.Open : FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 1 << 16, useAsync: true))
            {
                // Zeros everywhere first (sparse), then the chunks that hold data: the volume ends exactly as the backup.
                var length = format == "raw" ? output.Length : (long)backup.Size << 30;
                output.SetLength(0);
                output.SetLength(length);
                var objects = manifest["objects"]!.AsArray();
                for (var index = 0; index < objects.Count; index++)
                {
                    if (objects[index] is not JsonObject o) continue;
                    var path = Path.GetFullPath(Path.Combine(root, (string)o["container"]!, (string)o["name"]!));
                    var bytes = await File.ReadAllBytesAsync(path, ct);
                    output.Position = (long)index * ChunkSize;
                    await output.WriteAsync(bytes, ct);
                }
            }
            if (format != "raw") await HostCommand.RunAsync("qemu-img", ["convert", "-q", "-n", "-f", "raw", "-O", format, target, devicePath], ct);
        }
        finally
        {
            if (format != "raw") File.Delete(target);
        }
        return manifest["volume_meta"] as JsonObject ?? [];
    }

    /// <summary>Removes the backup's own objects and metadata (not the parent's objects it names) and its emptied directories.</summary>
    public void Delete(BackupRow backup)
    {
        var dir = ContainerPath(backup);
        if (!Directory.Exists(dir)) return;
        if (backup.ServiceMetadata is not null)
            foreach (var file in Directory.EnumerateFiles(dir, backup.ServiceMetadata + "*")) File.Delete(file);
        RemoveEmptyDirectories(dir);
    }

    /// <summary>Removes what a crash left half written: temporary files under the store.</summary>
    public void Reconcile()
    {
        Directory.CreateDirectory(root);
        foreach (var tmp in Directory.EnumerateFiles(root, "*.tmp", SearchOption.AllDirectories)) File.Delete(tmp);
    }

    JsonObject? Read(BackupRow backup)
    {
        if (!Exists(backup)) return null;
        return JsonNode.Parse(File.ReadAllText(MetadataPath(backup))) as JsonObject;
    }

    static int Count(JsonObject manifest, string key) => manifest[key] is JsonArray a ? a.Count : 0;

    static async Task WriteAtomicAsync(string path, ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        var tmp = path + ".tmp";
        try
        {
            await using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                await f.WriteAsync(bytes, ct);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    void RemoveEmptyDirectories(string dir)
    {
        var rootFull = Path.GetFullPath(root);
        for (var d = dir; d.StartsWith(rootFull + Path.DirectorySeparatorChar, StringComparison.Ordinal) && Directory.Exists(d)
            && !Directory.EnumerateFileSystemEntries(d).Any(); d = Path.GetDirectoryName(d)!)
            Directory.Delete(d);
    }
}
