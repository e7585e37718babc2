using System.Text.Json.Nodes;
using Stratus.Core.Processes;

namespace Stratus.Compute.Virt.Qemu;

/// <summary>
/// The host's copies of images, in <c>instances_path/_base/</c> as Nova keeps them, and the qcow2 overlays
/// that give each instance its own root disk over one shared, never-written base.
/// </summary>
sealed class ImageCache(QemuDriverOptions options)
{
    readonly SemaphoreSlim _fill = new(1, 1);

    string BaseDirectory => Path.Combine(options.InstancesPath, "_base");

    public async Task CreateOverlayAsync(RootDisk root, string overlay, CancellationToken ct)
    {
        var image = await EnsureCachedAsync(root, ct);
        var format = await FormatOfAsync(image, ct);
        List<string> args = ["create", "-q", "-f", "qcow2", "-F", format, "-b", image, overlay];
        if (root.SizeGiB is { } gib) args.Add($"{gib}G");
        await HostCommand.RunAsync(options.QemuImgBinary, args, ct);
    }

    /// <summary>Copies the image in under a temporary name and renames it, so a base is complete or absent.</summary>
    async Task<string> EnsureCachedAsync(RootDisk root, CancellationToken ct)
    {
        if (root.ImageId.Length == 0 || root.ImageId.IndexOfAny(['/', '\0']) >= 0 || root.ImageId.StartsWith('.'))
            throw new VirtException($"'{root.ImageId}' cannot name a cached image");
        var cached = Path.Combine(BaseDirectory, root.ImageId);
        if (File.Exists(cached)) return cached;
        await _fill.WaitAsync(ct);
        try
        {
            if (File.Exists(cached)) return cached;
            if (!File.Exists(root.ImagePath)) throw new VirtException($"image {root.ImageId} not found at {root.ImagePath}");
            Directory.CreateDirectory(BaseDirectory);
            var temp = $"{cached}.{Guid.NewGuid():N}.part";
            try
            {
                await using (var source = File.OpenRead(root.ImagePath))
                await using (var target = File.Create(temp))
                    await source.CopyToAsync(target, ct);
                File.Move(temp, cached);
            }
            finally
            {
                File.Delete(temp);
            }
            return cached;
        }
        finally
        {
            _fill.Release();
        }
    }

    async Task<string> FormatOfAsync(string image, CancellationToken ct)
    {
        var info = JsonNode.Parse(await HostCommand.RunAsync(options.QemuImgBinary, ["info", "--output=json", image], ct));
        return info?["format"]?.GetValue<string>() ?? throw new VirtException($"qemu-img cannot tell the format of {image}");
    }
}
