namespace Stratus.Dashboard.Pages.Admin;

/// <summary>Every project's instances in the selected region (<c>openstack server list --all-projects</c>).</summary>
public sealed class InstancesModel : CloudPageModel
{
    public List<string?[]> Rows { get; } = [];

    public async Task OnGetAsync()
    {
        var projects = ((await TryAsync(() => Cloud.IdentityGetAsync("/projects")))?["projects"] as JsonArray ?? []).OfType<JsonObject>()
            .ToDictionary(p => (string)p["id"]!, p => (string?)p["name"] ?? "");
        foreach (var s in ((await TryAsync(() => Cloud.GetAsync("compute", "/servers/detail?all_tenants=1")))?["servers"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var project = (string?)s["tenant_id"] ?? "";
            Rows.Add([(string?)s["name"], projects.GetValueOrDefault(project, project), (string?)s["OS-EXT-SRV-ATTR:host"], (string?)s["status"],
                (string?)s["OS-EXT-STS:task_state"], Project.Instances.IndexModel.PowerState(s), Ago((string?)s["created"]), (string?)s["id"]]);
        }
    }
}
