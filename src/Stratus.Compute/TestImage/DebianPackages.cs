using Stratus.Core.Processes;

namespace Stratus.Compute.TestImage;

/// <summary>Debian packages fetched with <c>apt-get download</c> into a cache directory and unpacked with <c>dpkg-deb -x</c>.</summary>
sealed class DebianPackages(string cacheDirectory)
{
    /// <summary>The .deb of <paramref name="package"/>, downloaded only when the cache has none.</summary>
    public async Task<string> DownloadAsync(string package, CancellationToken ct)
    {
        Directory.CreateDirectory(cacheDirectory);
        if (Cached(package) is { } deb) return deb;
        await HostCommand.RunAsync("apt-get", ["download", "-q", package], ct, workingDirectory: cacheDirectory);
        return Cached(package) ?? throw new Virt.VirtException($"apt-get download {package} left no .deb in {cacheDirectory}");
    }

    /// <summary>The versioned package a metapackage such as <c>linux-image-amd64</c> currently depends on.</summary>
    public static async Task<string> ResolveAsync(string metapackage, string prefix, CancellationToken ct)
    {
        var depends = await HostCommand.RunAsync("apt-cache", ["depends", metapackage], ct);
        return depends.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("Depends: " + prefix, StringComparison.Ordinal))
            .Select(line => line["Depends: ".Length..])
            .FirstOrDefault() ?? throw new Virt.VirtException($"apt-cache depends {metapackage} names no {prefix}* package (run apt-get update?)");
    }

    public static Task ExtractAsync(string deb, string directory, CancellationToken ct) =>
        HostCommand.RunAsync("dpkg-deb", ["-x", deb, directory], ct);

    string? Cached(string package) =>
        Directory.EnumerateFiles(cacheDirectory, $"{package}_*.deb").Order(StringComparer.Ordinal).LastOrDefault();
}
