namespace Stratus.Dashboard.Pages.Admin;

/// <summary>The selected region's services: the catalog's, and the compute services with their state (<c>openstack compute service list</c>).</summary>
public sealed class ServicesModel : CloudPageModel
{
    public IReadOnlyList<(string Type, string Name, string Url)> Catalog { get; private set; } = [];
    public List<string?[]> Compute { get; } = [];
    public bool HasCompute { get; private set; }

    public async Task OnGetAsync()
    {
        Catalog = await TryAsync(() => Cloud.RegionServicesAsync()) ?? [];
        HasCompute = Catalog.Any(s => s.Type == "compute");
        if (!HasCompute) return;
        foreach (var s in ((await TryAsync(() => Cloud.GetAsync("compute", "/os-services")))?["services"] as JsonArray ?? []).OfType<JsonObject>())
            Compute.Add([(string?)s["binary"], (string?)s["host"], (string?)s["zone"], (string?)s["status"], (string?)s["state"], Ago((string?)s["updated_at"]), s["id"]?.ToString()]);
    }
}
