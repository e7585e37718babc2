using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Image.Api;

namespace Stratus.Image.Store;

/// <summary>
/// Runs interoperable imports in the background, as Glance's import tasks do: glance-direct moves
/// staged data into the store, web-download fetches the URI. The method is recorded on the image
/// before it is queued here, so a restart finds and finishes every image left "importing".
/// </summary>
public sealed class ImportWorker(IServiceScopeFactory scopes, FileStore store, ImageOptions options, ILogger<ImportWorker> log) : BackgroundService
{
    public const string MethodProperty = "os_glance_import_method";
    public const string UriProperty = "os_glance_import_uri";

    readonly Channel<string> _queue = Channel.CreateUnbounded<string>();
    static readonly HttpClient Web = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = Timeout.InfiniteTimeSpan };

    public void Enqueue(string imageId) => _queue.Writer.TryWrite(imageId);

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ImageDb>();
            foreach (var id in await db.Images.Where(i => i.Status == ImageStatus.Importing && !i.Deleted).Select(i => i.Id).ToListAsync(stop))
                Enqueue(id);
        }
        await foreach (var id in _queue.Reader.ReadAllAsync(stop))
        {
            try
            {
                await ImportAsync(id, stop);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                log.LogError("Import of image {Id} failed: {Error}", id, e.Message);
                await FailAsync(id, e.Message);
            }
        }
    }

    async Task ImportAsync(string id, CancellationToken stop)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ImageDb>();
        var image = await db.Images.Include(i => i.Properties).FirstOrDefaultAsync(i => i.Id == id && !i.Deleted, stop);
        if (image is null || image.Status != ImageStatus.Importing) return;
        var method = image.Properties.FirstOrDefault(p => p.Name == MethodProperty)?.Value;
        StoredData stored;
        if (method == "web-download")
        {
            var uri = image.Properties.FirstOrDefault(p => p.Name == UriProperty)?.Value ?? throw new InvalidOperationException("no URI recorded");
            using var response = await Web.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, stop);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(stop);
            stored = await store.WriteAsync(id, body, options.ImageSizeCap, stop);
        }
        else
        {
            var staged = image.Location ?? throw new InvalidOperationException("no staged data");
            await using (var body = new FileStore(options.StagingDir).OpenRead(staged))
                stored = await store.WriteAsync(id, body, options.ImageSizeCap, stop);
            FileStore.TryDelete(staged);
        }
        image.Properties.RemoveAll(p => p.Name is MethodProperty or UriProperty);
        await db.SaveChangesAsync(stop);
        await ImageDataApi.CompleteAsync(db, id, stored, ImageStatus.Active);
    }

    /// <summary>A failed import leaves a queued image (Glance: os_glance_failed_import), with no data.</summary>
    async Task FailAsync(string id, string why)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ImageDb>();
        var image = await db.Images.Include(i => i.Properties).FirstOrDefaultAsync(i => i.Id == id && !i.Deleted);
        if (image is null) return;
        FileStore.TryDelete(image.Location);
        image.Location = null;
        image.Size = null;
        image.Status = ImageStatus.Queued;
        image.Properties.RemoveAll(p => p.Name.StartsWith("os_glance_", StringComparison.Ordinal));
        image.Properties.Add(new ImageProperty { ImageId = id, Name = "os_glance_failed_import", Value = options.DefaultStore });
        image.Touch();
        await db.SaveChangesAsync();
    }
}
