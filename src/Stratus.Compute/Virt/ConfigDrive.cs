using Stratus.Core.Processes;

namespace Stratus.Compute.Virt;

/// <summary>
/// Nova's config drive as its ConfigDriveBuilder writes it: the instance's metadata as files on an ISO 9660
/// disk labelled <c>config-2</c>, made with <c>genisoimage</c> (<c>[DEFAULT] mkisofs_cmd</c>) with Nova's flags.
/// </summary>
public static class ConfigDrive
{
    public const string Label = "config-2";

    public static async Task WriteAsync(IReadOnlyDictionary<string, byte[]> files, string isoPath, string mkisofs = "genisoimage", CancellationToken ct = default)
    {
        var staging = Directory.CreateTempSubdirectory("stratus-configdrive-");
        try
        {
            foreach (var (path, content) in files)
            {
                var full = Path.GetFullPath(Path.Combine(staging.FullName, path));
                if (!full.StartsWith(staging.FullName + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                    throw new VirtException($"config drive path {path} leaves the drive");
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                await File.WriteAllBytesAsync(full, content, ct);
            }
            await HostCommand.RunAsync(mkisofs, ["-o", isoPath, "-ldots", "-allow-lowercase", "-allow-multidot", "-l",
                "-publisher", "OpenStack Compute (Stratus)", "-quiet", "-J", "-r", "-V", Label, staging.FullName], ct);
        }
        finally
        {
            staging.Delete(recursive: true);
        }
    }
}
