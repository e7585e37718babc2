using System.Net.Http.Headers;
using System.Net.Http.Json;
using Stratus.Core.Catalog;
using Stratus.Dashboard.Session;

namespace Stratus.Dashboard.OpenStack;

/// <summary>
/// The cloud as one signed-in user sees it from one request: every call goes to the public endpoint of
/// the service type in the session's region, found in the token's catalog, exactly as
/// <c>openstack --os-region-name</c> finds it. Nothing here reaches into a service's code or database.
/// </summary>
public sealed class Cloud(KeystoneClient keystone, HttpClient http, DashboardOptions options, IHttpContextAccessor accessor)
{
    CloudSession? _session;

    public CloudSession Session => _session ??= CloudSession.From(accessor.HttpContext!.User)
        ?? throw new CloudException(401, "You are not signed in.");

    public KeystoneClient Keystone => keystone;

    CancellationToken Aborted => accessor.HttpContext?.RequestAborted ?? default;

    /// <summary>Every region that has an endpoint in the catalog, for the region selector.</summary>
    public async Task<IReadOnlyList<string>> RegionsAsync()
    {
        var (_, raw) = await keystone.CatalogAsync(Session.Token, Aborted);
        return RegionsOf(raw);
    }

    public static IReadOnlyList<string> RegionsOf(JsonArray catalog) =>
        catalog.OfType<JsonObject>().SelectMany(s => (s["endpoints"] as JsonArray ?? []).OfType<JsonObject>())
            .Select(e => (string?)e["region_id"] ?? (string?)e["region"]).OfType<string>()
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>The services of the session's region in the catalog: (type, name, public URL).</summary>
    public async Task<IReadOnlyList<(string Type, string Name, string Url)>> RegionServicesAsync()
    {
        var (_, raw) = await keystone.CatalogAsync(Session.Token, Aborted);
        return raw.OfType<JsonObject>()
            .SelectMany(s => (s["endpoints"] as JsonArray ?? []).OfType<JsonObject>()
                .Where(e => (string?)e["interface"] == "public" && ((string?)e["region_id"] ?? (string?)e["region"]) == Session.Region)
                .Select(e => ((string?)s["type"] ?? "", (string?)s["name"] ?? "", (string?)e["url"] ?? "")))
            .OrderBy(s => s.Item1, StringComparer.Ordinal).ToList();
    }

    public async Task<string> EndpointAsync(string serviceType)
    {
        var (catalog, _) = await keystone.CatalogAsync(Session.Token, Aborted);
        try
        {
            return catalog.EndpointFor(serviceType, "public", Session.Region, Session.ProjectId).TrimEnd('/');
        }
        catch (EndpointNotFoundException e)
        {
            throw new CloudException(0, e.Message);
        }
    }

    /// <summary>Whether the session's region offers a service type at all (so a page can say so instead of failing).</summary>
    public async Task<bool> HasServiceAsync(string serviceType) =>
        (await RegionServicesAsync()).Any(s => s.Type == serviceType);

    public async Task<JsonObject> GetAsync(string serviceType, string path) =>
        await SendAsync(HttpMethod.Get, serviceType, path, null) ?? [];

    public Task<JsonObject?> PostAsync(string serviceType, string path, JsonNode body) => SendAsync(HttpMethod.Post, serviceType, path, body);

    public Task<JsonObject?> PutAsync(string serviceType, string path, JsonNode body) => SendAsync(HttpMethod.Put, serviceType, path, body);

    public Task<JsonObject?> DeleteAsync(string serviceType, string path) => SendAsync(HttpMethod.Delete, serviceType, path, null);

    /// <summary>Identity calls go to OPENSTACK_KEYSTONE_URL, as Horizon's do.</summary>
    public Task<JsonObject> IdentityGetAsync(string path) => keystone.GetAsync(path, Session.Token, Aborted);

    /// <summary>Streams bytes to a service (image data), without holding them in memory.</summary>
    public async Task PutStreamAsync(string serviceType, string path, Stream data, long? length)
    {
        var content = new StreamContent(data, 1 << 16);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (length is not null) content.Headers.ContentLength = length;
        using var request = await RequestAsync(HttpMethod.Put, serviceType, path);
        request.Content = content;
        using var response = await SendAsync(request, serviceType);
        await KeystoneClient.EnsureSuccessAsync(response, Aborted);
    }

    async Task<JsonObject?> SendAsync(HttpMethod method, string serviceType, string path, JsonNode? body)
    {
        using var request = await RequestAsync(method, serviceType, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await SendAsync(request, serviceType);
        await KeystoneClient.EnsureSuccessAsync(response, Aborted);
        if (response.Content.Headers.ContentLength == 0 || (int)response.StatusCode == 204) return null;
        var text = await response.Content.ReadAsStringAsync(Aborted);
        return text.Length == 0 ? null : JsonNode.Parse(text) as JsonObject;
    }

    async Task<HttpRequestMessage> RequestAsync(HttpMethod method, string serviceType, string path)
    {
        var request = new HttpRequestMessage(method, await EndpointAsync(serviceType) + path);
        request.Headers.Add("X-Auth-Token", Session.Token);
        if (serviceType == "compute")
        {
            request.Headers.Add("OpenStack-API-Version", "compute " + options.ComputeMicroversion);
            request.Headers.Add("X-OpenStack-Nova-API-Version", options.ComputeMicroversion);
        }
        return request;
    }

    async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string serviceType)
    {
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Aborted);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !Aborted.IsCancellationRequested)
        {
            throw new CloudException(0, $"The {serviceType} service of {Session.Region} at {request.RequestUri?.GetLeftPart(UriPartial.Authority)} could not be reached: {e.Message}");
        }
    }
}
