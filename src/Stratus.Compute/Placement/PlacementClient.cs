using System.Net;
using System.Net.Http.Json;
using Stratus.Core.Catalog;

namespace Stratus.Compute.Placement;

/// <summary>
/// Nova's report client: placement found in the catalog through <c>[placement]</c> (its service user
/// and region), spoken at a fixed microversion. Failures carry what placement answered, so the
/// caller can say which section and keys to fix (seed section 6).
/// </summary>
public sealed class PlacementClient(KeystoneSession? session, string? configError = null)
{
    const string Version = "placement 1.36";

    public string Source => session?.Options.Source ?? "nova.conf [placement]";

    public async Task<(HttpStatusCode Status, JsonNode? Body, string Text)> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct)
    {
        if (session is null) throw new PlacementException(0, configError ?? "[placement] is not configured");
        HttpResponseMessage response;
        try
        {
            response = await session.SendAsync("placement", endpoint =>
            {
                var request = new HttpRequestMessage(method, new Uri(endpoint, path.TrimStart('/'))) { Content = body is null ? null : JsonContent.Create(body) };
                request.Headers.Add("OpenStack-API-Version", Version);
                return request;
            }, ct);
        }
        catch (EndpointNotFoundException e)
        {
            throw new PlacementException(0, $"{e.Message} Check region_name (os_region_name) in {Source}.");
        }
        catch (ServiceCredentialsRejectedException e)
        {
            throw new PlacementException(401, e.Message);
        }
        catch (IdentityUnreachableException e)
        {
            throw new PlacementException(0, $"{e.Message} (auth_url in {Source})");
        }
        catch (PeerUnreachableException e)
        {
            throw new PlacementException(0, $"placement at {e.Endpoint} could not be reached: {e.Why}");
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
                throw new PlacementException(401, $"Got 401: {text} — check auth_url, username, password, project_name and the domains in {Source}.");
            JsonNode? json = null;
            if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType == "application/json") json = JsonNode.Parse(text);
            return (response.StatusCode, json, text);
        }
    }

    public async Task<JsonNode?> GetAsync(string path, CancellationToken ct)
    {
        var (status, body, text) = await SendAsync(HttpMethod.Get, path, null, ct);
        if (status == HttpStatusCode.NotFound) return null;
        if ((int)status >= 300) throw new PlacementException((int)status, $"GET {path}: {(int)status} {text}");
        return body;
    }

    /// <summary>Creates the compute node's resource provider if missing and sets its inventory.</summary>
    public async Task EnsureProviderAsync(string uuid, string name, JsonObject inventories, CancellationToken ct)
    {
        var rp = await GetAsync($"/resource_providers/{uuid}", ct);
        if (rp is null)
        {
            var (status, _, text) = await SendAsync(HttpMethod.Post, "/resource_providers", new JsonObject { ["uuid"] = uuid, ["name"] = name }, ct);
            if ((int)status >= 300 && status != HttpStatusCode.Conflict)
                throw new PlacementException((int)status, $"Failed to create resource provider {name}: {(int)status} {text}");
            rp = await GetAsync($"/resource_providers/{uuid}", ct)
                ?? throw new PlacementException(404, $"Failed to create resource provider {name}: placement does not show it after creation ({text})");
        }
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var generation = (long)rp!["generation"]!;
            var (status, _, text) = await SendAsync(HttpMethod.Put, $"/resource_providers/{uuid}/inventories",
                new JsonObject { ["resource_provider_generation"] = generation, ["inventories"] = inventories.DeepClone() }, ct);
            if ((int)status < 300) return;
            if (status != HttpStatusCode.Conflict) throw new PlacementException((int)status, $"Failed to set the inventory of {name}: {(int)status} {text}");
            rp = await GetAsync($"/resource_providers/{uuid}", ct);
        }
        throw new PlacementException(409, $"The inventory of {name} kept changing under us");
    }

    public async Task DeleteAllocationsAsync(string consumer, CancellationToken ct)
    {
        var (status, _, text) = await SendAsync(HttpMethod.Delete, $"/allocations/{consumer}", null, ct);
        if ((int)status >= 300 && status != HttpStatusCode.NotFound)
            throw new PlacementException((int)status, $"Failed to delete the allocations of {consumer}: {(int)status} {text}");
    }
}

public sealed class PlacementException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
