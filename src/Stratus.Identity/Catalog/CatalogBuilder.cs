using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Data;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Catalog;

/// <summary>
/// The service catalog as Keystone's v3 token carries it: enabled services with their enabled
/// endpoints, URL templates filled for the project (<c>%(project_id)s</c>, <c>$(project_id)s</c>,
/// <c>%(tenant_id)s</c>); an endpoint whose template needs a project is left out of a token that has none.
/// The endpoint rows are read once per identity generation and kept in memory.
/// </summary>
public sealed class CatalogBuilder(IdentityGeneration generation)
{
    sealed record Snapshot(long Generation, List<Service> Services, List<Endpoint> Endpoints,
        Dictionary<string, HashSet<string>> ProjectFilters);

    Snapshot? _snapshot;

    public async Task<JsonArray> BuildAsync(IdentityDb db, string? projectId, string? userId, CancellationToken ct)
    {
        var snap = await SnapshotAsync(db, ct);
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
            var entry = new JsonObject { ["endpoints"] = endpoints, ["id"] = s.Id, ["type"] = s.Type };
            if (s.Name is not null) entry["name"] = s.Name;
            catalog.Add(entry);
        }
        return catalog;
    }

    async Task<Snapshot> SnapshotAsync(IdentityDb db, CancellationToken ct)
    {
        var gen = generation.Value;
        var snap = _snapshot;
        if (snap is not null && snap.Generation == gen) return snap;
        var services = await db.Services.AsNoTracking().Where(s => s.Enabled).OrderBy(s => s.Type).ToListAsync(ct);
        var endpoints = await db.Endpoints.AsNoTracking().Where(e => e.Enabled).OrderBy(e => e.RegionId).ThenBy(e => e.Interface).ToListAsync(ct);
        var filters = (await db.ProjectEndpoints.AsNoTracking().ToListAsync(ct))
            .GroupBy(p => p.ProjectId)
            .ToDictionary(g => g.Key, g => g.Select(p => p.EndpointId).ToHashSet());
        snap = new Snapshot(gen, services, endpoints, filters);
        _snapshot = snap;
        return snap;
    }

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
