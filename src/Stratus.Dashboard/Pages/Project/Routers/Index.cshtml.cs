using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.Routers;

/// <summary>The project's routers in the selected region: list, create (with an external gateway where chosen), delete.</summary>
public sealed class IndexModel : NetworkPageModel
{
    public IReadOnlyList<JsonObject> Routers { get; private set; } = [];
    /// <summary>The external networks: a router's gateway, and names for the table.</summary>
    public IReadOnlyList<JsonObject> ExternalNetworks { get; private set; } = [];

    [BindProperty] public string? Name { get; set; }
    [BindProperty] public string? ExternalNetwork { get; set; }
    [BindProperty] public bool AdminStateUp { get; set; } = true;

    public async Task OnGetAsync()
    {
        Routers = (await ReadAsync(() => Cloud.OwnAsync("routers"))).OrderBy(Networking.NameOf, StringComparer.Ordinal).ToList();
        ExternalNetworks = await ReadAsync(Cloud.ExternalNetworksAsync);
    }

    public string NetworkName(string? id) => ExternalNetworks.FirstOrDefault(n => (string?)n["id"] == id) is { } n ? Networking.NameOf(n) : id ?? "";

    public async Task<IActionResult> OnPostCreateAsync()
    {
        Name = Name?.Trim() ?? "";
        var router = new JsonObject { ["name"] = Name, ["admin_state_up"] = AdminStateUp };
        if (!string.IsNullOrEmpty(ExternalNetwork)) router["external_gateway_info"] = new JsonObject { ["network_id"] = ExternalNetwork };
        try
        {
            var created = await Cloud.CreateAsync("routers", "router", router);
            Flash = $"Created router \"{Networking.NameOf(created)}\".";
            return RedirectToPage();
        }
        catch (CloudException e) when (e.Status != 401)
        {
            return await RefusedAsync($"Failed to create router \"{Name}\"", e, OnGetAsync);
        }
    }

    public Task<IActionResult> OnPostDeleteAsync([FromForm] string id, [FromForm] string? name) =>
        ActAsync(() => Cloud.RemoveAsync("routers", id), $"Deleted router \"{name ?? id}\".", failed: $"Unable to delete router \"{name ?? id}\"");
}
