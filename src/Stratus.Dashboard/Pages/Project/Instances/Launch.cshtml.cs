using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.Instances;

/// <summary>Launch an instance: name, image, flavor and key pair (no network service yet: <c>networks: none</c>).</summary>
public sealed class LaunchModel : CloudPageModel
{
    [BindProperty] public string? Name { get; set; }
    [BindProperty] public string? Image { get; set; }
    [BindProperty] public string? Flavor { get; set; }
    [BindProperty] public string? KeyName { get; set; }

    public IReadOnlyList<JsonObject> Images { get; private set; } = [];
    public IReadOnlyList<JsonObject> Flavors { get; private set; } = [];
    public IReadOnlyList<string> KeyPairs { get; private set; } = [];

    public Task OnGetAsync() => LoadAsync();

    async Task LoadAsync()
    {
        Images = ((await TryAsync(() => Cloud.GetAsync("image", "/v2/images?status=active&limit=1000")))?["images"] as JsonArray ?? [])
            .OfType<JsonObject>().OrderBy(i => (string?)i["name"], StringComparer.Ordinal).ToList();
        Flavors = ((await TryAsync(() => Cloud.GetAsync("compute", "/flavors/detail")))?["flavors"] as JsonArray ?? [])
            .OfType<JsonObject>().OrderBy(f => (int?)f["ram"] ?? 0).ToList();
        KeyPairs = ((await TryAsync(() => Cloud.GetAsync("compute", "/os-keypairs")))?["keypairs"] as JsonArray ?? [])
            .Select(k => (string?)k?["keypair"]?["name"]).OfType<string>().Order(StringComparer.Ordinal).ToList();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        Name = Name?.Trim();
        if (string.IsNullOrEmpty(Name)) Errors.Add("Instance Name is required.");
        if (string.IsNullOrEmpty(Image)) Errors.Add("Choose an image.");
        if (string.IsNullOrEmpty(Flavor)) Errors.Add("Choose a flavor.");
        if (Errors.Count == 0)
        {
            var server = new JsonObject { ["name"] = Name, ["imageRef"] = Image, ["flavorRef"] = Flavor, ["networks"] = "none" };
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
