using System.Collections.Concurrent;
using System.Net;

namespace Stratus.Compute.Agent;

/// <summary>
/// Brings an image from the region's image service to this host, once: <c>[glance] api_servers</c>
/// when set, else the image endpoint of the catalog in the service's region, with the token of the
/// user who asked for the server (as Nova downloads with the request's context).
/// </summary>
public sealed class ImageFetcher(NovaOptions options, KeystoneSession session)
{
    readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();
    static readonly HttpClient Http = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = Timeout.InfiniteTimeSpan };

    string Directory => Path.Combine(options.InstancesPath, "_images");

    public async Task<string> FetchAsync(string imageId, string? token, CancellationToken ct)
    {
        if (!Guid.TryParse(imageId, out _)) throw new ImageFetchException($"Invalid image identifier or unable to access requested image. (image '{imageId}')");
        var path = Path.Combine(Directory, imageId);
        var gate = _locks.GetOrAdd(imageId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (File.Exists(path)) return path;
            System.IO.Directory.CreateDirectory(Directory);
            var endpoint = await EndpointAsync(ct);
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{endpoint}/v2/images/{imageId}/file");
            request.Headers.Add("X-Auth-Token", token ?? (await session.GetTokenAsync(ct)).Token);
            using var response = await SendAsync(request, endpoint, ct);
            if (response.StatusCode != HttpStatusCode.OK)
                throw new ImageFetchException($"Invalid image identifier or unable to access requested image. (HTTP {(int)response.StatusCode} from {endpoint} for image {imageId})");
            var temp = path + ".partial-" + Guid.NewGuid().ToString("N")[..8];
            try
            {
                await using (var file = File.Create(temp))
                    await response.Content.CopyToAsync(file, ct);
                File.Move(temp, path, overwrite: true);
            }
            catch
            {
                File.Delete(temp);
                throw;
            }
            return path;
        }
        finally
        {
            gate.Release();
        }
    }

    async Task<string> EndpointAsync(CancellationToken ct)
    {
        if (options.GlanceApiServers.Count > 0) return options.GlanceApiServers[0].TrimEnd('/');
        try
        {
            return (await session.EndpointForAsync("image", "public", null, ct)).TrimEnd('/');
        }
        catch (Exception e) when (e is Core.Catalog.EndpointNotFoundException or IdentityUnreachableException or ServiceCredentialsRejectedException)
        {
            throw new ImageFetchException($"Invalid image identifier or unable to access requested image: no image service ({e.Message})");
        }
    }

    static async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string endpoint, CancellationToken ct)
    {
        try
        {
            return await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException e)
        {
            throw new ImageFetchException($"Invalid image identifier or unable to access requested image: {endpoint} could not be reached ({e.Message})");
        }
    }
}
