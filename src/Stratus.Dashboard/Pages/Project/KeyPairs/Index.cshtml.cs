using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.KeyPairs;

/// <summary>The user's key pairs in the selected region: create (the private key is shown once), import, delete.</summary>
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
public sealed class IndexModel : CloudPageModel
{
    public IReadOnlyList<JsonObject> KeyPairs { get; private set; } = [];

    [BindProperty] public string? Name { get; set; }
    [BindProperty] public string? PublicKey { get; set; }
    /// <summary>The private key of a key pair just created: shown on this response only, never stored.</summary>
    public string? PrivateKey { get; private set; }
    public string? CreatedName { get; private set; }

    public async Task OnGetAsync()
    {
        KeyPairs = ((await TryAsync(() => Cloud.GetAsync("compute", "/os-keypairs")))?["keypairs"] as JsonArray ?? [])
            .Select(k => k?["keypair"] as JsonObject).OfType<JsonObject>().OrderBy(k => (string?)k["name"], StringComparer.Ordinal).ToList();
    }

    public async Task<IActionResult> OnPostCreateAsync()
    {
        Name = Name?.Trim();
        if (string.IsNullOrEmpty(Name)) Errors.Add("Key Pair Name is required.");
        else
        {
            var keypair = new JsonObject { ["name"] = Name };
            if (!string.IsNullOrWhiteSpace(PublicKey)) keypair["public_key"] = PublicKey.Trim();
            try
            {
                var created = await Cloud.PostAsync("compute", "/os-keypairs", new JsonObject { ["keypair"] = keypair });
                PrivateKey = (string?)created?["keypair"]?["private_key"];
                CreatedName = Name;
                Flash = null;
                if (PrivateKey is null)
                {
                    Flash = $"Imported key pair {Name}.";
                    return RedirectToPage();
                }
                Name = null;
            }
            catch (CloudException e) when (e.Status != 401)
            {
                Errors.Add(e.Message);
            }
        }
        if (Errors.Count > 0) Response.StatusCode = 400;
        await OnGetAsync();
        return Page();
    }

    public Task<IActionResult> OnPostDeleteAsync([FromForm] string name) =>
        ActAsync(() => Cloud.DeleteAsync("compute", "/os-keypairs/" + Uri.EscapeDataString(name)), $"Deleted key pair {name}.");
}
