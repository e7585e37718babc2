using System.Collections.Concurrent;

namespace Stratus.Compute.Virt;

/// <summary>
/// The host's copies of images, in <c>instances_path/_base/</c> as Nova keeps them: each image is
/// brought once, by whoever needs it first, and the driver lays each instance's root disk over it
/// as a copy-on-write overlay. A base is written under a temporary name and renamed, so it is
/// complete or absent, and never written again.
/// </summary>
public sealed class ImageCache(string instancesPath)
{
    readonly ConcurrentDictionary<string, SemaphoreSlim> _fills = new();

    public string Directory => Path.Combine(instancesPath, "_base");

    /// <summary>The cached image's path, filled first by <paramref name="fill"/> when the host has no copy yet.</summary>
    public async Task<string> EnsureAsync(string imageId, Func<Stream, CancellationToken, Task> fill, CancellationToken ct)
    {
        if (imageId.Length == 0 || imageId.IndexOfAny(['/', '\0']) >= 0 || imageId.StartsWith('.'))
            throw new ArgumentException($"'{imageId}' cannot name a cached image", nameof(imageId));
        var cached = Path.Combine(Directory, imageId);
        if (File.Exists(cached)) return cached;
        var gate = _fills.GetOrAdd(imageId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (File.Exists(cached)) return cached;
            System.IO.Directory.CreateDirectory(Directory);
            var temp = $"{cached}.{Guid.NewGuid():N}.part";
            try
            {
                await using (var target = File.Create(temp))
                    await fill(target, ct);
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
            gate.Release();
        }
    }
}
