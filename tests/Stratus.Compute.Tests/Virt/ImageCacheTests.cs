using Stratus.Compute.Virt;

namespace Stratus.Compute.Tests.Virt;

public sealed class ImageCacheTests : IDisposable
{
    readonly DirectoryInfo _instances = Directory.CreateTempSubdirectory("stratus-cache-");

    public void Dispose() => _instances.Delete(recursive: true);

    [Fact]
    public async Task An_image_is_brought_once_into_base_however_many_ask_at_once()
    {
        var cache = new ImageCache(_instances.FullName);
        var fills = 0;
        async Task Fill(Stream file, CancellationToken ct)
        {
            Interlocked.Increment(ref fills);
            await Task.Delay(50, ct);
            await file.WriteAsync("qcow2"u8.ToArray(), ct);
        }

        var paths = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => cache.EnsureAsync("img-1", Fill, CancellationToken.None)));

        Assert.Equal(1, fills);
        Assert.All(paths, p => Assert.Equal(Path.Combine(_instances.FullName, "_base", "img-1"), p));
        Assert.Equal("qcow2", await File.ReadAllTextAsync(paths[0]));
        Assert.Equal([paths[0]], Directory.GetFiles(cache.Directory));
    }

    [Fact]
    public async Task A_failed_fill_leaves_nothing_and_the_next_one_brings_the_image()
    {
        var cache = new ImageCache(_instances.FullName);
        await Assert.ThrowsAsync<IOException>(() => cache.EnsureAsync("img-2", async (file, ct) =>
        {
            await file.WriteAsync("half"u8.ToArray(), ct);
            throw new IOException("image service went away");
        }, CancellationToken.None));
        Assert.Empty(Directory.GetFiles(cache.Directory));

        var path = await cache.EnsureAsync("img-2", (file, ct) => file.WriteAsync("whole"u8.ToArray(), ct).AsTask(), CancellationToken.None);
        Assert.Equal("whole", await File.ReadAllTextAsync(path));
        Assert.Throws<ArgumentException>(() => cache.EnsureAsync("../etc", (_, _) => Task.CompletedTask, CancellationToken.None).GetAwaiter().GetResult());
    }
}
