namespace Stratus.Dashboard.Pages.Admin;

/// <summary>The identity's projects.</summary>
public sealed class ProjectsModel : CloudPageModel
{
    public List<string?[]> Rows { get; } = [];

    public async Task OnGetAsync()
    {
        var domains = ((await TryAsync(() => Cloud.IdentityGetAsync("/domains")))?["domains"] as JsonArray ?? []).OfType<JsonObject>()
            .ToDictionary(d => (string)d["id"]!, d => (string?)d["name"] ?? "");
        foreach (var p in ((await TryAsync(() => Cloud.IdentityGetAsync("/projects")))?["projects"] as JsonArray ?? []).OfType<JsonObject>()
            .OrderBy(p => (string?)p["name"], StringComparer.Ordinal))
            Rows.Add([(string?)p["name"], (string?)p["description"], domains.GetValueOrDefault((string?)p["domain_id"] ?? "", (string?)p["domain_id"] ?? ""),
                (bool?)p["enabled"] == false ? "disabled" : "enabled", (string?)p["id"]]);
    }
}
