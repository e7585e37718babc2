namespace Stratus.Dashboard.Pages.Admin;

/// <summary>Who holds which role where (<c>openstack role assignment list --names</c>).</summary>
public sealed class RoleAssignmentsModel : CloudPageModel
{
    public List<string?[]> Rows { get; } = [];

    public async Task OnGetAsync()
    {
        foreach (var a in ((await TryAsync(() => Cloud.IdentityGetAsync("/role_assignments?include_names=true")))?["role_assignments"] as JsonArray ?? []).OfType<JsonObject>())
        {
            static string? Named(JsonNode? n) => n is null ? null : (string?)n["name"] is { } name
                ? (string?)n["domain"]?["name"] is { } d ? $"{name}@{d}" : name
                : (string?)n["id"];
            var scope = a["scope"];
            var target = scope?["project"] is { } p ? "project " + Named(p) : scope?["domain"] is { } d ? "domain " + Named(d) : scope?["system"] is not null ? "system" : "";
            Rows.Add([Named(a["role"]), a["user"] is { } u ? "user " + Named(u) : "group " + Named(a["group"]), target,
                scope?["OS-INHERIT:inherited_to"] is not null ? "yes" : "no"]);
        }
        Rows.Sort((x, y) => string.CompareOrdinal(x[1] + x[2] + x[0], y[1] + y[2] + y[0]));
    }
}
