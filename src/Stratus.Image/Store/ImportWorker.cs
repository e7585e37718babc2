using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Image.Api;

namespace Stratus.Image.Store;

/// <summary>
/// Runs interoperable imports in the background, as Glance's import tasks do: glance-direct moves
/// staged data into the store, web-download fetches the URI, glance-download copies an image from
/// the image service of another region (found in the caller's catalog, fetched with the caller's
/// token). Each import is a recorded task before it is queued here, so a restart finds and finishes
/// every task left unfinished.
/// </summary>
public sealed class ImportWorker(IServiceScopeFactory scopes, FileStore store, ImageOptions options, KeystoneSession peers, ILogger<ImportWorker> log)
    : BackgroundService
{
    // Glance's [glance_download_properties] extra_properties: what glance-download copies (prefixes).
    static readonly string[] CopiedProperties = ["hw_", "trait:", "os_distro", "os_secure_boot", "os_type"];

    readonly Channel<string> _queue = Channel.CreateUnbounded<string>();
    // The caller of a glance-download import: its token is a secret, so it is kept in memory only.
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, Caller> _callers = new();
    static readonly HttpClient Web = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = Timeout.InfiniteTimeSpan };

    public void Enqueue(string taskId, Caller? caller = null)
    {
        if (caller is not null) _callers[taskId] = caller;
        _queue.Writer.TryWrite(taskId);
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ImageDb>();
            foreach (var id in await db.Tasks.Where(t => t.Status == "pending" || t.Status == "processing").Select(t => t.Id).ToListAsync(stop))
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
                log.LogError("Import task {Id} failed: {Error}", id, e.Message);
                await FailAsync(id, e.Message);
            }
        }
    }

    async Task ImportAsync(string taskId, CancellationToken stop)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ImageDb>();
        var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId, stop);
        if (task is null) return;
        var image = await db.Images.FirstOrDefaultAsync(i => i.Id == task.ImageId && !i.Deleted, stop);
        if (image is null || image.Status != ImageStatus.Importing) throw new InvalidOperationException("the image is no longer importing");
        task.Status = "processing";
        task.UpdatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync(stop);
        var method = JsonNode.Parse(task.ImportRequest)?["method"];
        StoredData stored;
        if ((string?)method?["name"] == "glance-download")
        {
            _callers.TryRemove(taskId, out var caller);
            stored = await DownloadFromRegionAsync(db, image, method!, caller ?? throw new InvalidOperationException(
                "the caller's credentials were lost with a restart; import again"), stop);
        }
        else if ((string?)method?["name"] == "web-download")
        {
            using var response = await Web.GetAsync((string)method!["uri"]!, HttpCompletionOption.ResponseHeadersRead, stop);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(stop);
            stored = await store.WriteAsync(image.Id, body, options.ImageSizeCap, stop);
        }
        else
        {
            var staged = image.Location ?? throw new InvalidOperationException("no staged data");
            await using (var body = new FileStore(options.StagingDir).OpenRead(staged))
                stored = await store.WriteAsync(image.Id, body, options.ImageSizeCap, stop);
            FileStore.TryDelete(staged);
        }
        await ImageDataApi.CompleteAsync(db, image.Id, stored, ImageStatus.Active);
        await SetStatusAsync(db, taskId, "success", "");
    }

    /// <summary>Copies an image, its formats and its hardware properties, from another region's image service.</summary>
    async Task<StoredData> DownloadFromRegionAsync(ImageDb db, ImageRecord image, JsonNode method, Caller caller, CancellationToken stop)
    {
        var remoteId = (string)method["glance_image_id"]!;
        var peer = new PeerEndpoint("image", (string?)method["glance_service_interface"] ?? "public", (string?)method["glance_region"]);
        // A failed task names the endpoint the caller's catalog gave.
        var endpoint = "";
        HttpRequestMessage Get(Uri baseUrl, string path)
        {
            endpoint = baseUrl.OriginalString.TrimEnd('/');
            return new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, path));
        }
        using var shown = await peers.SendAsync(caller, peer, u => Get(u, $"v2/images/{remoteId}"), HttpCompletionOption.ResponseContentRead, stop);
        if (!shown.IsSuccessStatusCode) throw new InvalidOperationException($"{endpoint} answered {(int)shown.StatusCode} for image {remoteId}");
        var remote = JsonNode.Parse(await shown.Content.ReadAsStringAsync(stop)) as JsonObject
            ?? throw new InvalidOperationException($"{endpoint} did not describe image {remoteId}");
        using var data = await peers.SendAsync(caller, peer, u => Get(u, $"v2/images/{remoteId}/file"), HttpCompletionOption.ResponseHeadersRead, stop);
        if (data.StatusCode != System.Net.HttpStatusCode.OK) throw new InvalidOperationException($"{endpoint} answered {(int)data.StatusCode} for the data of image {remoteId}");
        StoredData stored;
        await using (var body = await data.Content.ReadAsStreamAsync(stop))
            stored = await store.WriteAsync(image.Id, body, options.ImageSizeCap, stop);
        await db.Entry(image).Collection(i => i.Properties).LoadAsync(stop);
        image.DiskFormat = (string?)remote["disk_format"] ?? image.DiskFormat;
        image.ContainerFormat = (string?)remote["container_format"] ?? image.ContainerFormat;
        foreach (var (key, value) in remote)
        {
            if (!CopiedProperties.Any(p => key.StartsWith(p, StringComparison.Ordinal)) || value is not JsonValue v || !v.TryGetValue<string>(out var text)) continue;
            image.Properties.RemoveAll(p => p.Name == key);
            image.Properties.Add(new ImageProperty { ImageId = image.Id, Name = key, Value = text });
        }
        await db.SaveChangesAsync(stop);
        return stored;
    }

    /// <summary>
    /// A failed import leaves a queued image (Glance: os_glance_failed_import), with no data, and a failed task:
    /// the image first, as a client that sees the task failed reads the image next (Tempest does).
    /// </summary>
    async Task FailAsync(string taskId, string why)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ImageDb>();
        await RevertImageAsync(db, taskId);
        await SetStatusAsync(db, taskId, "failure", why);
    }

    async Task RevertImageAsync(ImageDb db, string taskId)
    {
        var imageId = await db.Tasks.Where(t => t.Id == taskId).Select(t => t.ImageId).FirstOrDefaultAsync();
        var image = await db.Images.Include(i => i.Properties).FirstOrDefaultAsync(i => i.Id == imageId && !i.Deleted);
        if (image is null || image.Status != ImageStatus.Importing) return;
        FileStore.TryDelete(image.Location);
        image.Location = null;
        image.Size = null;
        image.Status = ImageStatus.Queued;
        image.Properties.RemoveAll(p => p.Name == "os_glance_failed_import");
        image.Properties.Add(new ImageProperty { ImageId = image.Id, Name = "os_glance_failed_import", Value = options.DefaultStore });
        image.Touch();
        await db.SaveChangesAsync();
    }

    static async Task SetStatusAsync(ImageDb db, string taskId, string status, string message)
    {
        db.ChangeTracker.Clear();
        var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId);
        if (task is null) return;
        task.Status = status;
        task.Message = message;
        task.UpdatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync();
    }
}
