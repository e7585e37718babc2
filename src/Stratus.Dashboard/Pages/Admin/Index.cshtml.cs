namespace Stratus.Dashboard.Pages.Admin;

/// <summary>Every region of the shared identity and the endpoints registered in each (<c>openstack endpoint list</c>).</summary>
public sealed class IndexModel : CloudPageModel
{
    public IReadOnlyList<JsonObject> Regions { get; private set; } = [];
    public Dictionary<string, List<string?[]>> Endpoints { get; } = new(StringComparer.Ordinal);

    public async Task OnGetAsync()
    {
        Regions = ((await TryAsync(() => Cloud.IdentityGetAsync("/regions")))?["regions"] as JsonArray ?? []).OfType<JsonObject>()
            .OrderBy(r => (string?)r["id"], StringComparer.Ordinal).ToList();
        var services = ((await TryAsync(() => Cloud.IdentityGetAsync("/services")))?["services"] as JsonArray ?? []).OfType<JsonObject>()
            .ToDictionary(s => (string)s["id"]!, s => ((string?)s["name"] ?? "", (string?)s["type"] ?? ""));
        foreach (var e in ((await TryAsync(() => Cloud.IdentityGetAsync("/endpoints")))?["endpoints"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var region = (string?)e["region_id"] ?? "";
            var (name, type) = services.GetValueOrDefault((string?)e["service_id"] ?? "", ("?", "?"));
            if (!Endpoints.TryGetValue(region, out var rows)) Endpoints[region] = rows = [];
            rows.Add([name, type, (string?)e["interface"], (string?)e["url"], (bool?)e["enabled"] == false ? "disabled" : "enabled"]);
        }
        foreach (var rows in Endpoints.Values) rows.Sort((a, b) => string.CompareOrdinal(a[1] + a[2], b[1] + b[2]));
    }
}
