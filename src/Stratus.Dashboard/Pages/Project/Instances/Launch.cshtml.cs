using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.Instances;

/// <summary>
/// Launch an instance: name, image, flavor, key pair and the networks of its NICs, one each in the order listed (none chosen,
/// or no network service in the region: <c>networks: none</c>).
/// </summary>
public sealed class LaunchModel : CloudPageModel
{
    [BindProperty] public string? Name { get; set; }
    [BindProperty] public string? Image { get; set; }
    [BindProperty] public string? Flavor { get; set; }
    [BindProperty] public string? KeyName { get; set; }
    [BindProperty] public List<string> Networks { get; set; } = [];

    public IReadOnlyList<JsonObject> Images { get; private set; } = [];
    public IReadOnlyList<JsonObject> Flavors { get; private set; } = [];
    public IReadOnlyList<string> KeyPairs { get; private set; } = [];
    /// <summary>The networks the project may put an instance on; null where the region has no network service.</summary>
    public IReadOnlyList<JsonObject>? AvailableNetworks { get; private set; }

    public Task OnGetAsync() => LoadAsync();

    async Task LoadAsync()
    {
        Images = ((await TryAsync(() => Cloud.GetAsync("image", "/v2/images?status=active&limit=1000")))?["images"] as JsonArray ?? [])
            .OfType<JsonObject>().OrderBy(i => (string?)i["name"], StringComparer.Ordinal).ToList();
        Flavors = ((await TryAsync(() => Cloud.GetAsync("compute", "/flavors/detail")))?["flavors"] as JsonArray ?? [])
            .OfType<JsonObject>().OrderBy(f => (int?)f["ram"] ?? 0).ToList();
        KeyPairs = ((await TryAsync(() => Cloud.GetAsync("compute", "/os-keypairs")))?["keypairs"] as JsonArray ?? [])
            .Select(k => (string?)k?["keypair"]?["name"]).OfType<string>().Order(StringComparer.Ordinal).ToList();
        if (await TryAsync(() => Cloud.HasServiceAsync(Networking.Service)))
            AvailableNetworks = await TryAsync(() => Cloud.ProjectNetworksAsync(includeExternal: false)) ?? [];
    }

    public async Task<IActionResult> OnPostAsync()
    {
        Name = Name?.Trim();
        if (string.IsNullOrEmpty(Name)) Errors.Add("Instance Name is required.");
        if (string.IsNullOrEmpty(Image)) Errors.Add("Choose an image.");
        if (string.IsNullOrEmpty(Flavor)) Errors.Add("Choose a flavor.");
        if (Errors.Count == 0)
        {
            JsonNode networks = Networks.Count == 0 ? "none" : new JsonArray([.. Networks.Select(n => (JsonNode)new JsonObject { ["uuid"] = n })]);
            var server = new JsonObject { ["name"] = Name, ["imageRef"] = Image, ["flavorRef"] = Flavor, ["networks"] = networks };
            if (!string.IsNullOrEmpty(KeyName)) server["key_name"] = KeyName;
            try
            {
                await Cloud.PostAsync("compute", "/servers", new JsonObject { ["server"] = server });
                Flash = $"Launched instance {Name}.";
                return RedirectToPage("/Project/Instances/Index");
            }
            catch (CloudException e) when (e.Status != 401)
            {
                Errors.Add(e.Message);
            }
        }
        await LoadAsync();
        return Page();
    }
}
