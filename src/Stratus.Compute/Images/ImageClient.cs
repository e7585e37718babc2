using System.Net;
using System.Net.Http.Json;

namespace Stratus.Compute.Images;

/// <summary>
/// Nova's glance client: the region's image service at <c>[glance] api_servers</c> when set, else the
/// image endpoint of the catalog in the service's region, spoken with the token of the user who asked
/// (as Nova reads and downloads images with the request's context).
/// </summary>
/// <remarks>
/// Finding the endpoint can throw what <see cref="KeystoneSession"/> throws (no such endpoint, identity
/// unreachable, service credentials rejected); talking to it throws <see cref="ImageServiceException"/>.
/// </remarks>
public sealed class ImageClient(KeystoneSession session, NovaOptions options)
{
    /// <summary>The image as the user sees it (<c>GET /v2/images/{id}</c>); null when it is not there for them.</summary>
    public async Task<JsonObject?> ShowAsync(string imageId, string token, CancellationToken ct)
    {
        var (endpoint, response) = await GetAsync($"/v2/images/{Uri.EscapeDataString(imageId)}", token, ct);
        using (response)
        {
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest or HttpStatusCode.Forbidden) return null;
            if (!response.IsSuccessStatusCode) throw new ImageServiceException(endpoint, (int)response.StatusCode, $"HTTP {(int)response.StatusCode} from {endpoint}");
            return await response.Content.ReadFromJsonAsync<JsonObject>(ct);
        }
    }

    /// <summary>Copies the image's bytes (<c>GET /v2/images/{id}/file</c>) to <paramref name="target"/>; without a user's token, with the service's.</summary>
    public async Task DownloadAsync(string imageId, string? token, Stream target, CancellationToken ct)
    {
        var (endpoint, response) = await GetAsync($"/v2/images/{imageId}/file", token ?? (await session.GetTokenAsync(ct)).Token, ct);
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK) throw new ImageServiceException(endpoint, (int)response.StatusCode, $"HTTP {(int)response.StatusCode} from {endpoint}");
            await response.Content.CopyToAsync(target, ct);
        }
    }

    /// <summary>A request to the image service as the user: the answer's status and JSON body (null when it has none).</summary>
    public async Task<(int Status, JsonObject? Body)> SendAsync(HttpMethod method, string path, HttpContent? content, string token, CancellationToken ct)
    {
        var (endpoint, response) = await SendAsync(new HttpRequestMessage(method, path) { Content = content }, token, ct);
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            try
            {
                return ((int)response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null);
            }
            catch (System.Text.Json.JsonException)
            {
                if (response.IsSuccessStatusCode) throw new ImageServiceException(endpoint, (int)response.StatusCode, $"{endpoint}{path} answered what is not JSON");
                return ((int)response.StatusCode, null);
            }
        }
    }

    /// <summary>The image service's endpoint: <c>[glance] api_servers</c>, else the catalog's.</summary>
    public async Task<string> EndpointAsync(CancellationToken ct) => options.GlanceApiServers.Count > 0
        ? options.GlanceApiServers[0].TrimEnd('/')
        : (await session.EndpointForAsync("image", "public", null, ct)).TrimEnd('/');

    Task<(string Endpoint, HttpResponseMessage Response)> GetAsync(string path, string token, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, path), token, ct);

    async Task<(string Endpoint, HttpResponseMessage Response)> SendAsync(HttpRequestMessage request, string token, CancellationToken ct)
    {
        var endpoint = await EndpointAsync(ct);
        using var _ = request;
        request.RequestUri = new Uri(endpoint + request.RequestUri!.OriginalString);
        request.Headers.Add("X-Auth-Token", token);
        try
        {
            // Headers first: an image's bytes are streamed to the cache, never held.
            return (endpoint, await session.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct));
        }
        catch (HttpRequestException e)
        {
            throw new ImageServiceException(endpoint, null, e.Message);
        }
    }
}

/// <summary>The image service could not be reached (<see cref="Status"/> null) or refused with <see cref="Status"/>.</summary>
public sealed class ImageServiceException(string endpoint, int? status, string message) : Exception(message)
{
    public string Endpoint => endpoint;
    public int? Status => status;
}
