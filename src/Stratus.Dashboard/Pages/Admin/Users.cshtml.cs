namespace Stratus.Dashboard.Pages.Admin;

/// <summary>The identity's users.</summary>
public sealed class UsersModel : CloudPageModel
{
    public List<string?[]> Rows { get; } = [];

    public async Task OnGetAsync()
    {
        var domains = ((await TryAsync(() => Cloud.IdentityGetAsync("/domains")))?["domains"] as JsonArray ?? []).OfType<JsonObject>()
            .ToDictionary(d => (string)d["id"]!, d => (string?)d["name"] ?? "");
        foreach (var u in ((await TryAsync(() => Cloud.IdentityGetAsync("/users")))?["users"] as JsonArray ?? []).OfType<JsonObject>()
            .OrderBy(u => (string?)u["name"], StringComparer.Ordinal))
            Rows.Add([(string?)u["name"], (string?)u["email"], domains.GetValueOrDefault((string?)u["domain_id"] ?? "", (string?)u["domain_id"] ?? ""),
                (bool?)u["enabled"] == false ? "disabled" : "enabled", (string?)u["id"]]);
    }
}
