using System.Text.Json;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Catalog;

/// <summary>
/// The service catalog as Keystone's v3 token carries it: enabled services with their enabled
/// endpoints, URL templates filled for the project (<c>%(project_id)s</c>, <c>$(project_id)s</c>,
/// <c>%(tenant_id)s</c>); an endpoint whose template needs a project is left out of a token that has none.
/// The rows are read (with plain ADO.NET, <see cref="IdentityStore"/>) and kept in memory until this
/// node writes anything (the generation moves) or for two seconds at most, so that a change made
/// through another identity node sharing the database shows up quickly too.
/// </summary>
public sealed class CatalogBuilder(IdentityStore store, IdentityGeneration generation)
{
    const long MaxAgeMs = 2000;

    sealed record Snapshot(long Generation, long LoadedAt, List<Service> Services, List<Endpoint> Endpoints,
        Dictionary<string, HashSet<string>> ProjectFilters);

    readonly SemaphoreSlim _gate = new(1, 1);
    Snapshot? _snapshot;

    public async Task<JsonArray> BuildAsync(string? projectId, string? userId, CancellationToken ct)
    {
        var snap = await SnapshotAsync(ct);
        HashSet<string>? allowed = null;
        if (projectId is not null) snap.ProjectFilters.TryGetValue(projectId, out allowed);
        var catalog = new JsonArray();
        foreach (var s in snap.Services)
        {
            var endpoints = new JsonArray();
            foreach (var e in snap.Endpoints)
            {
                if (e.ServiceId != s.Id || (allowed is not null && !allowed.Contains(e.Id))) continue;
                var url = FormatUrl(e.Url, projectId, userId);
                if (url is null) continue;
                endpoints.Add(new JsonObject
                {
                    ["id"] = e.Id,
                    ["interface"] = e.Interface,
                    ["region_id"] = e.RegionId,
                    ["url"] = url,
                    ["region"] = e.RegionId,
                });
            }
            // Keystone keeps an endpoint-less service in a full catalog but drops it from a filtered one.
            if (allowed is not null && endpoints.Count == 0) continue;
            catalog.Add(new JsonObject { ["endpoints"] = endpoints, ["id"] = s.Id, ["type"] = s.Type, ["name"] = s.Name ?? "" });
        }
        return catalog;
    }

    async Task<Snapshot> SnapshotAsync(CancellationToken ct)
    {
        var gen = generation.Value;
        var snap = _snapshot;
        if (snap is not null && snap.Generation == gen && Environment.TickCount64 - snap.LoadedAt < MaxAgeMs) return snap;
        // Only time has passed: one request re-reads while the others go on with what is there. After
        // a write by this node every request waits for the new rows (a client sees its own change).
        if (snap is not null && snap.Generation == gen)
        {
            if (!_gate.Wait(0)) return snap;
        }
        else await _gate.WaitAsync(ct);
        try
        {
            snap = _snapshot;
            if (snap is not null && snap.Generation == gen && Environment.TickCount64 - snap.LoadedAt < MaxAgeMs) return snap;
            snap = await LoadAsync(gen, ct);
            _snapshot = snap;
            return snap;
        }
        finally
        {
            _gate.Release();
        }
    }

    async Task<Snapshot> LoadAsync(long gen, CancellationToken ct)
    {
        var loadedAt = Environment.TickCount64;
        var services = (await store.ServicesAsync(ct)).Where(s => s.Enabled).ToList();
        var allEndpoints = await store.EndpointsAsync(ct);
        var endpoints = allEndpoints.Where(e => e.Enabled)
            .OrderBy(e => e.RegionId, StringComparer.Ordinal).ThenBy(e => e.Interface, StringComparer.Ordinal).ToList();
        var existing = allEndpoints.Select(e => e.Id).ToHashSet();
        var filters = (await store.ProjectEndpointsAsync(ct))
            .Where(p => existing.Contains(p.EndpointId))
            .GroupBy(p => p.ProjectId)
            .ToDictionary(g => g.Key, g => g.Select(p => p.EndpointId).ToHashSet());
        // A project's endpoint groups add every endpoint (enabled or not) their filters match.
        var groups = (await store.EndpointGroupsAsync(ct)).ToDictionary(g => g.Id, g => ParseFilters(g.Filters));
        foreach (var link in await store.ProjectEndpointGroupsAsync(ct))
        {
            if (!groups.TryGetValue(link.EndpointGroupId, out var groupFilters)) continue;
            if (!filters.TryGetValue(link.ProjectId, out var set)) filters[link.ProjectId] = set = [];
            foreach (var e in allEndpoints)
                if (InGroup(e, groupFilters)) set.Add(e.Id);
        }
        // An association that selects nothing does not switch filtering on (Keystone tests the union for emptiness).
        foreach (var key in filters.Where(f => f.Value.Count == 0).Select(f => f.Key).ToList()) filters.Remove(key);
        return new Snapshot(gen, loadedAt, services, endpoints, filters);
    }

    /// <summary>OS-EP-FILTER: an endpoint is in a group when each filter (service_id, region_id, interface) equals its attribute.</summary>
    public static bool InGroup(Endpoint e, JsonObject filters)
    {
        foreach (var (key, value) in filters)
        {
            var actual = key switch
            {
                "service_id" => e.ServiceId,
                "region_id" => e.RegionId,
                "interface" => e.Interface,
                _ => null,
            };
            if (value is null ? actual is not null : value.GetValueKind() != JsonValueKind.String || value.GetValue<string>() != actual)
                return false;
        }
        return true;
    }

    public static JsonObject ParseFilters(string json) => JsonNode.Parse(json) as JsonObject ?? [];

    /// <summary>Keystone's format_url: substitutes the known template keys; null when a needed one is missing.</summary>
    public static string? FormatUrl(string template, string? projectId, string? userId)
    {
        if (!template.Contains("(", StringComparison.Ordinal)) return template;
        var url = template.Replace("$(", "%(", StringComparison.Ordinal);
        foreach (var (key, value) in new[] { ("project_id", projectId), ("tenant_id", projectId), ("user_id", userId) })
        {
            var token = $"%({key})s";
            if (!url.Contains(token, StringComparison.Ordinal)) continue;
            if (value is null) return null;
            url = url.Replace(token, value, StringComparison.Ordinal);
        }
        return url;
    }
}
