using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.Networks;

/// <summary>The project's networks in the selected region, with the shared and external ones: list, create with a first subnet, delete.</summary>
public sealed class IndexModel : NetworkPageModel
{
    public IReadOnlyList<JsonObject> Networks { get; private set; } = [];
    public Dictionary<string, JsonObject> Subnets { get; } = [];

    [BindProperty] public string? Name { get; set; }
    [BindProperty] public bool AdminStateUp { get; set; } = true;
    [BindProperty] public bool Shared { get; set; }
    [BindProperty] public bool WithSubnet { get; set; } = true;
    [BindProperty] public SubnetForm Subnet { get; set; } = new();

    public async Task OnGetAsync()
    {
        Networks = await ReadAsync(() => Cloud.ProjectNetworksAsync(includeExternal: true));
        if (Networks.Count == 0) return;
        foreach (var s in await ReadAsync(() => Cloud.ListAsync("subnets")))
            Subnets[(string)s["id"]!] = s;
    }

    public async Task<IActionResult> OnPostCreateAsync()
    {
        Name = Name?.Trim() ?? "";
        if (WithSubnet) Subnet.Check(Errors);
        if (Errors.Count > 0) return await InvalidAsync(OnGetAsync);
        var network = new JsonObject { ["name"] = Name, ["admin_state_up"] = AdminStateUp };
        if (Shared) network["shared"] = true;
        JsonObject created;
        try
        {
            created = await Cloud.CreateAsync("networks", "network", network);
        }
        catch (CloudException e) when (e.Status != 401)
        {
            return await RefusedAsync($"Failed to create network \"{Name}\"", e, OnGetAsync);
        }
        var id = (string)created["id"]!;
        if (WithSubnet)
        {
            try
            {
                await Cloud.CreateAsync("subnets", "subnet", Subnet.ToSubnet(id));
            }
            catch (CloudException e) when (e.Status != 401)
            {
                // As Horizon's workflow: the network goes again, so the form can be sent once more.
                await TryAsync(() => Cloud.RemoveAsync("networks", id));
                return await RefusedAsync($"Failed to create subnet \"{Subnet.Cidr}\" for network \"{Name}\"", e, OnGetAsync);
            }
        }
        Flash = $"Created network \"{Networking.NameOf(created)}\".";
        return RedirectToPage();
    }

    public Task<IActionResult> OnPostDeleteAsync([FromForm] string id, [FromForm] string? name) =>
        ActAsync(() => Cloud.RemoveAsync("networks", id), $"Deleted network \"{name ?? id}\".", failed: $"Unable to delete network \"{name ?? id}\"");
}
