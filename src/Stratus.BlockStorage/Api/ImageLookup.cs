using System.Net;
using System.Net.Http.Json;
using Stratus.Core.Catalog;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// How the API finds the image of a create, or makes the image of an upload (Cinder's <c>_image_uuid_from_ref</c>): at <c>glance_api_servers</c>,
/// else the image endpoint of the caller's catalog in the service's region, as the caller; by id, then by name.
/// What it cannot read is Cinder's 400 "Invalid image identifier or unable to access requested image." (seed
/// section 6), with the reason added so an operator sees which setting to fix.
/// </summary>
public sealed class ImageLookup(CinderOptions options, HttpClient http)
{
    const string Refused = "Invalid image identifier or unable to access requested image.";

    /// <summary>The image service's endpoint for the caller; null with the reason when there is none.</summary>
    public (string? Endpoint, string? Why) EndpointFor(Caller caller)
    {
        if (options.GlanceApiServers.Count > 0) return (options.GlanceApiServers[0].TrimEnd('/'), null);
        try
        {
            return (caller.Catalog.EndpointFor("image", "public", options.Authtoken.RegionName, caller.ProjectId).TrimEnd('/'), null);
        }
        catch (EndpointNotFoundException e)
        {
            return (null, $"[DEFAULT] glance_api_servers is not set and the catalog has no image endpoint in region {options.Authtoken.RegionName}: {e.Message}");
        }
    }

    public async Task<(string Endpoint, JsonObject Image)> FindAsync(Caller caller, string imageRef, CancellationToken ct)
    {
        var (endpoint, why) = EndpointFor(caller);
        if (endpoint is null) throw OpenStackError.BadRequest($"{Refused} {why}");
        var (image, reason) = await GetAsync(endpoint, caller, $"v2/images/{Uri.EscapeDataString(imageRef)}", ct);
        if (image is null && reason is null)
        {
            var (list, listReason) = await GetAsync(endpoint, caller, $"v2/images?name={Uri.EscapeDataString(imageRef)}", ct);
            reason = listReason;
            if (list?["images"] is JsonArray { Count: > 0 } found)
            {
                if (found.Count > 1) throw OpenStackError.Conflict($"Multiple matches found for '{imageRef}', use an ID to be more specific.");
                image = found[0]!.AsObject();
            }
        }
        return image is not null ? (endpoint, image) : throw OpenStackError.BadRequest(reason is null ? Refused : $"{Refused} {reason}");
    }

    /// <summary>A queued image for an upload (Cinder's image_service.create), as the caller; what the image service refuses is a 400 with its reason.</summary>
    public async Task<(string Endpoint, JsonObject Image)> CreateAsync(Caller caller, JsonObject image, CancellationToken ct)
    {
        var (endpoint, why) = EndpointFor(caller);
        if (endpoint is null) throw OpenStackError.BadRequest($"The image service cannot be reached: {why}");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{endpoint}/v2/images") { Content = JsonContent.Create(image) };
        request.Headers.Add("X-Auth-Token", caller.Token);
        try
        {
            using var response = await http.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
                throw OpenStackError.BadRequest($"The image service at {endpoint} refused the image ({(int)response.StatusCode}): {GlanceMessage(body)}");
            return (endpoint, JsonNode.Parse(body)?.AsObject() ?? throw OpenStackError.BadRequest($"The image service at {endpoint} answered without an image."));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !ct.IsCancellationRequested)
        {
            throw OpenStackError.BadRequest($"The image service at {endpoint} did not answer: {e.Message}");
        }
    }

    /// <summary>Glance's error text: the message of its JSON error, else the body as it came.</summary>
    static string GlanceMessage(string body)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject o && o.FirstOrDefault().Value?["message"] is JsonValue m ? m.ToString() : body.Trim();
        }
        catch (System.Text.Json.JsonException)
        {
            return body.Trim();
        }
    }

    async Task<(JsonObject? Body, string? Why)> GetAsync(string endpoint, Caller caller, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{endpoint}/{path}");
        request.Headers.Add("X-Auth-Token", caller.Token);
        try
        {
            using var response = await http.SendAsync(request, ct);
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest) return (null, null);
            if (!response.IsSuccessStatusCode) return (null, $"The image service at {endpoint} answered {(int)response.StatusCode}.");
            return (await response.Content.ReadFromJsonAsync<JsonObject>(ct), null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !ct.IsCancellationRequested)
        {
            return (null, $"The image service at {endpoint} did not answer: {e.Message}");
        }
    }
}
