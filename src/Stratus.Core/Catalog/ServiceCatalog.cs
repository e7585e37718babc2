using System.Text.Json.Nodes;

namespace Stratus.Core.Catalog;

/// <summary>
/// Finding a peer service as keystoneauth does: in the service catalog of a token, the endpoint for
/// (service type, interface, region), with <c>%(project_id)s</c> filled in. When nothing matches, the
/// error names what was asked and what the catalog has, which is how a wrong <c>region_name</c> or
/// <c>os_region_name</c> shows itself (seed section 6).
/// </summary>
public sealed class ServiceCatalog(JsonArray catalog)
{
    public string EndpointFor(string serviceType, string @interface = "public", string? region = null, string? projectId = null)
    {
        // keystoneauth accepts the v2 spellings too ("publicURL").
        var wanted = @interface.EndsWith("URL", StringComparison.Ordinal) ? @interface[..^3] : @interface;
        var seen = new List<string>();
        foreach (var service in catalog.OfType<JsonObject>())
        {
            if ((string?)service["type"] != serviceType) continue;
            foreach (var endpoint in (service["endpoints"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var iface = (string?)endpoint["interface"];
                var endpointRegion = (string?)endpoint["region_id"] ?? (string?)endpoint["region"];
                seen.Add($"{iface} in {endpointRegion ?? "no region"}");
                if (iface != wanted || (region is not null && endpointRegion != region)) continue;
                var url = (string?)endpoint["url"];
                if (string.IsNullOrEmpty(url)) continue;
                return Substitute(url, projectId, serviceType);
            }
        }
        var where = region is null ? "" : $" in region '{region}'";
        var has = seen.Count == 0 ? "the catalog has no such service" : "the catalog has: " + string.Join(", ", seen.Distinct());
        throw new EndpointNotFoundException($"No {wanted} endpoint for service type '{serviceType}'{where} ({has}).");
    }

    static string Substitute(string url, string? projectId, string serviceType)
    {
        if (!url.Contains("(", StringComparison.Ordinal)) return url;
        foreach (var key in new[] { "%(project_id)s", "$(project_id)s", "%(tenant_id)s", "$(tenant_id)s" })
        {
            if (!url.Contains(key, StringComparison.Ordinal)) continue;
            url = url.Replace(key, projectId ?? throw new EndpointNotFoundException(
                $"The {serviceType} endpoint '{url}' needs a project, and the token has none."), StringComparison.Ordinal);
        }
        return url;
    }
}

public sealed class EndpointNotFoundException(string message) : Exception(message);
