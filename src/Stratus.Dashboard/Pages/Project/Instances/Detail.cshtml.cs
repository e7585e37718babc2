using Microsoft.AspNetCore.Mvc;

namespace Stratus.Dashboard.Pages.Project.Instances;

/// <summary>One instance: its details, actions and console log (os-getConsoleOutput).</summary>
public sealed class DetailModel : CloudPageModel
{
    public JsonObject? Server { get; private set; }
    public string? ConsoleLog { get; private set; }
    public string? FlavorName { get; private set; }
    public string? ImageName { get; private set; }
    public Dictionary<(string Server, string FixedIp), string> FloatingIps { get; private set; } = [];

    [BindProperty(SupportsGet = true, Name = "length")] public int Length { get; set; } = 100;

    public async Task<IActionResult> OnGetAsync(string id)
    {
        var path = "/servers/" + Uri.EscapeDataString(id);
        Server = (await TryAsync(() => Cloud.GetAsync("compute", path)))?["server"] as JsonObject;
        if (Server is null) return Page();
        var flavors = new Dictionary<string, string>();
        var images = new Dictionary<string, string>();
        await IndexModel.NamesAsync(Cloud, flavors, images, TryAsync);
        FlavorName = flavors.GetValueOrDefault((string?)Server["flavor"]?["id"] ?? "");
        ImageName = images.GetValueOrDefault((string?)Server["image"]?["id"] ?? "");
        FloatingIps = await TryAsync(() => IndexModel.FloatingIpsAsync(Cloud)) ?? [];
        var body = new JsonObject { ["os-getConsoleOutput"] = new JsonObject { ["length"] = Math.Clamp(Length, 10, 10_000) } };
        ConsoleLog = (string?)(await TryAsync(() => Cloud.PostAsync("compute", path + "/action", body)))?["output"];
        return Page();
    }
}
