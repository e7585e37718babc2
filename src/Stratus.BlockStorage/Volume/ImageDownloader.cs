using System.Net;
using System.Net.Http.Json;

namespace Stratus.BlockStorage.Volume;

/// <summary>
/// Cinder's glance client as cinder-volume uses it: the image's record and bytes from the image service the
/// API found (<c>glance_api_servers</c>, else the catalog), with the token of the user who asked.
/// </summary>
public sealed class ImageDownloader(HttpClient http)
{
    /// <summary>The image's record; throws <see cref="ImageUnavailableException"/> with the reason when it cannot be read.</summary>
    public async Task<JsonObject> ShowAsync(string endpoint, string imageId, string? token, CancellationToken ct)
    {
        using var response = await SendAsync(endpoint, $"v2/images/{Uri.EscapeDataString(imageId)}", token, HttpCompletionOption.ResponseContentRead, ct);
        return await response.Content.ReadFromJsonAsync<JsonObject>(ct) ?? throw new ImageUnavailableException($"{endpoint} answered without an image");
    }

    public async Task DownloadAsync(string endpoint, string imageId, string? token, string target, CancellationToken ct)
    {
        using var response = await SendAsync(endpoint, $"v2/images/{Uri.EscapeDataString(imageId)}/file", token, HttpCompletionOption.ResponseHeadersRead, ct);
        await using var file = File.Create(target);
        await response.Content.CopyToAsync(file, ct);
    }

    async Task<HttpResponseMessage> SendAsync(string endpoint, string path, string? token, HttpCompletionOption completion, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint.TrimEnd('/') + "/" + path);
        if (token is not null) request.Headers.Add("X-Auth-Token", token);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, completion, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new ImageUnavailableException($"the image service at {endpoint} did not answer: {e.Message}");
        }
        if (response.StatusCode == HttpStatusCode.OK) return response;
        var status = (int)response.StatusCode;
        response.Dispose();
        throw new ImageUnavailableException($"the image service at {endpoint} answered {status} to GET /{path}");
    }
}

public sealed class ImageUnavailableException(string message) : Exception(message);
