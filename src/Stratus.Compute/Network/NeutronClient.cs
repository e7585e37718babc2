using System.Net;
using System.Net.Http.Json;
using Stratus.Core.Catalog;

namespace Stratus.Compute.Network;

/// <summary>
/// Nova's neutron client: the region's network service at <c>[neutron] url</c>, else the network endpoint
/// of the catalog in <c>[neutron] region_name</c>. The API checks what a user asked for with the user's
/// token (they see only their networks and ports); the agent creates, binds and deletes ports as
/// <c>[neutron]</c>'s service user, as Nova does with an admin context.
/// </summary>
public sealed class NeutronClient(KeystoneSession? session, NovaOptions options)
{
    public string Source => session?.Options.Source ?? $"{options.ConfigPath} [neutron]";

    KeystoneSession Session => session ?? throw new NeutronException(0, null, options.NeutronError ?? $"{Source} is not configured");

    public async Task<string> EndpointAsync(CancellationToken ct)
    {
        if (options.NeutronUrl is { Length: > 0 } url) return url.TrimEnd('/');
        try
        {
            return (await Session.EndpointForAsync("network", null, options.NeutronRegion, ct)).TrimEnd('/');
        }
        catch (EndpointNotFoundException e)
        {
            throw new NeutronException(0, null, $"{e.Message} Check region_name in {Source}.");
        }
    }

    /// <summary>A request as the user with <paramref name="token"/>, or as the service user when it is null; the body when 2xx, null on 404.</summary>
    public async Task<JsonObject?> SendAsync(HttpMethod method, string path, JsonObject? body, string? token, CancellationToken ct)
    {
        var endpoint = await EndpointAsync(ct);
        token ??= (await Session.GetTokenAsync(ct)).Token;
        using var request = new HttpRequestMessage(method, endpoint + path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add("X-Auth-Token", token);
        HttpResponseMessage response;
        try
        {
            response = await Session.Http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new NeutronException(0, null, $"the network service at {endpoint} could not be reached: {e.Message}");
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode == HttpStatusCode.NotFound) return null;
            JsonObject? json = null;
            try
            {
                json = text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null;
            }
            catch (System.Text.Json.JsonException)
            {
            }
            if (!response.IsSuccessStatusCode)
                throw new NeutronException((int)response.StatusCode, (string?)json?["NeutronError"]?["type"],
                    (string?)json?["NeutronError"]?["message"] ?? $"HTTP {(int)response.StatusCode} from {endpoint}{path}");
            return json ?? [];
        }
    }

    public Task<JsonObject?> GetAsync(string path, string? token, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, token, ct);

    public async Task<List<JsonObject>> ListAsync(string collection, string query, string? token, CancellationToken ct) =>
        [.. ((await GetAsync($"/v2.0/{collection}?{query}", token, ct))?[collection] as JsonArray ?? []).OfType<JsonObject>()];
}

/// <summary>The network service refused (<see cref="Status"/>, Neutron's error <see cref="Type"/>) or could not be reached (0).</summary>
public sealed class NeutronException(int status, string? type, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string? Type { get; } = type;
}
