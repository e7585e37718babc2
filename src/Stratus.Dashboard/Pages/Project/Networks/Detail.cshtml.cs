using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.Networks;

/// <summary>One network: its overview, subnets (create, delete) and ports (its delete is the list's).</summary>
public sealed class DetailModel : NetworkPageModel
{
    [BindProperty(SupportsGet = true)] public string Id { get; set; } = "";

    public JsonObject? Network { get; private set; }
    public IReadOnlyList<JsonObject> Subnets { get; private set; } = [];
    public IReadOnlyList<JsonObject> Ports { get; private set; } = [];

    [BindProperty] public SubnetForm Subnet { get; set; } = new();

    public async Task OnGetAsync()
    {
        Network = await TryAsync(() => Cloud.ShowAsync("networks", "network", Id));
        if (Network is null) return;
        var query = "network_id=" + Uri.EscapeDataString(Id);
        Subnets = (await ReadAsync(() => Cloud.ListAsync("subnets", query))).OrderBy(Networking.NameOf, StringComparer.Ordinal).ToList();
        Ports = (await ReadAsync(() => Cloud.ListAsync("ports", query))).OrderBy(p => (string?)p["device_owner"], StringComparer.Ordinal).ToList();
    }

    public async Task<IActionResult> OnPostCreateSubnetAsync()
    {
        Subnet.Check(Errors);
        if (Errors.Count > 0) return await InvalidAsync(OnGetAsync);
        try
        {
            var created = await Cloud.CreateAsync("subnets", "subnet", Subnet.ToSubnet(Id));
            Flash = $"Created subnet \"{Networking.NameOf(created)}\".";
            return RedirectToPage(new { id = Id });
        }
        catch (CloudException e) when (e.Status != 401)
        {
            return await RefusedAsync($"Failed to create subnet \"{Subnet.Cidr}\"", e, OnGetAsync);
        }
    }

    public Task<IActionResult> OnPostDeleteSubnetAsync([FromForm] string subnet, [FromForm] string? name) =>
        ActAsync(() => Cloud.RemoveAsync("subnets", subnet), $"Deleted subnet \"{name ?? subnet}\".", routeValues: new { id = Id }, failed: $"Unable to delete subnet \"{name ?? subnet}\"");
}
