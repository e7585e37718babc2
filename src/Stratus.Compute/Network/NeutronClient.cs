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
        string endpoint;
        try
        {
            endpoint = await EndpointAsync(ct);
            token ??= (await Session.GetTokenAsync(ct)).Token;
        }
        catch (Exception e) when (e is IdentityUnreachableException or ServiceCredentialsRejectedException or KeystoneLoginException)
        {
            throw new NeutronException(0, null, $"{Source} could not log in to reach the network service: {e.Message}");
        }
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

    /// <summary>A collection (by its key in the answer: security_groups is at /v2.0/security-groups); empty when the service has none.</summary>
    public async Task<List<JsonObject>> ListAsync(string collection, string query, string? token, CancellationToken ct) =>
        [.. ((await GetAsync($"/v2.0/{(collection.StartsWith("security_group", StringComparison.Ordinal) ? collection.Replace('_', '-') : collection)}?{query}", token, ct))
            ?[collection] as JsonArray ?? []).OfType<JsonObject>()];

    /// <summary>
    /// neutronclient's find_resourceid_by_name_or_id, as Nova resolves a security group: a UUID among what the
    /// caller sees, else the name among <paramref name="projectId"/>'s; null when neither, 409 when the name is several's.
    /// </summary>
    public async Task<string?> FindIdAsync(string collection, string resource, string nameOrId, string? projectId, string? token, CancellationToken ct)
    {
        if (Guid.TryParseExact(nameOrId, "D", out _) && await ListAsync(collection, "id=" + Uri.EscapeDataString(nameOrId), token, ct) is [var byId, ..])
            return (string?)byId["id"];
        var query = "name=" + Uri.EscapeDataString(nameOrId) + (projectId is null ? "" : "&tenant_id=" + Uri.EscapeDataString(projectId));
        return await ListAsync(collection, query, token, ct) switch
        {
            [] => null,
            [var one] => (string?)one["id"],
            _ => throw OpenStackError.Conflict($"Multiple {resource} matches found for name '{nameOrId}', use an ID to be more specific."),
        };
    }
}

/// <summary>The network service refused (<see cref="Status"/>, Neutron's error <see cref="Type"/>) or could not be reached (0).</summary>
public sealed class NeutronException(int status, string? type, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string? Type { get; } = type;

    /// <summary>
    /// A failure Nova's API does not expect from the network service: its 500 ("Unexpected API Error"), with
    /// Neutron's words rather than a stack trace in the log.
    /// </summary>
    public OpenStackError Unexpected() =>
        new(500, "Internal Server Error", $"Unexpected API Error. The network service answered: {Message}");
}

public static class NeutronCalls
{
    /// <summary>A call to the network service whose failures Nova's API does not expect: they are its 500.</summary>
    public static async Task<T> OrUnexpected<T>(this Task<T> call)
    {
        try
        {
            return await call;
        }
        catch (NeutronException e)
        {
            throw e.Unexpected();
        }
    }
}
