namespace Stratus.Dashboard.Pages.Project;

/// <summary>The project's overview in the selected region: compute quotas and usage, images, and the region's services.</summary>
public sealed class IndexModel : CloudPageModel
{
    public JsonObject? Limits { get; private set; }
    public int? KeyPairs { get; private set; }
    public int? Images { get; private set; }
    public IReadOnlyList<(string Type, string Name, string Url)> Services { get; private set; } = [];

    public async Task OnGetAsync()
    {
        Services = await TryAsync(() => Cloud.RegionServicesAsync()) ?? [];
        if (Services.Any(s => s.Type == "compute"))
        {
            Limits = (await TryAsync(() => Cloud.GetAsync("compute", "/limits")))?["limits"]?["absolute"] as JsonObject;
            KeyPairs = (await TryAsync(() => Cloud.GetAsync("compute", "/os-keypairs")))?["keypairs"]?.AsArray().Count;
        }
        if (Services.Any(s => s.Type == "image"))
            Images = (await TryAsync(() => Cloud.GetAsync("image", "/v2/images?limit=1000&owner=" + Uri.EscapeDataString(Session.ProjectId))))?["images"]?.AsArray().Count;
    }

    public double Value(string key) => Limits?[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : 0;
}
