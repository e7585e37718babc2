using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.Routers;

/// <summary>One router: its gateway, its interfaces (add one on a subnet, remove one) (its delete is the list's).</summary>
public sealed class DetailModel : NetworkPageModel
{
    [BindProperty(SupportsGet = true)] public string Id { get; set; } = "";

    public JsonObject? Router { get; private set; }
    public IReadOnlyList<JsonObject> Ports { get; private set; } = [];
    /// <summary>The subnets of the project's (and shared) networks an interface may be added on: (id, label).</summary>
    public IReadOnlyList<(string Id, string Label)> Subnets { get; private set; } = [];
    public string? GatewayNetwork { get; private set; }

    [BindProperty] public string? Subnet { get; set; }

    public async Task OnGetAsync()
    {
        Router = await TryAsync(() => Cloud.ShowAsync("routers", "router", Id));
        if (Router is null) return;
        Ports = (await ReadAsync(() => Cloud.ListAsync("ports", "device_id=" + Uri.EscapeDataString(Id))))
            .OrderBy(p => (string?)p["device_owner"] == GatewayOwner).ThenBy(p => Networking.FixedIps(p["fixed_ips"]), StringComparer.Ordinal).ToList();
        var networks = await ReadAsync(() => Cloud.ProjectNetworksAsync(includeExternal: false));
        var names = networks.ToDictionary(n => (string)n["id"]!, Networking.NameOf);
        Subnets = (await ReadAsync(() => Cloud.ListAsync("subnets")))
            .Where(s => names.ContainsKey((string?)s["network_id"] ?? ""))
            .Select(s => ((string)s["id"]!, $"{names[(string)s["network_id"]!]}: {s["cidr"]} ({Networking.NameOf(s)})"))
            .OrderBy(s => s.Item2, StringComparer.Ordinal).ToList();
        if (Router["external_gateway_info"] is JsonObject gw && (string?)gw["network_id"] is { } gwNet)
            GatewayNetwork = (await TryAsync(() => Cloud.ShowAsync("networks", "network", gwNet))) is { } net ? Networking.NameOf(net) : gwNet;
    }

    public const string GatewayOwner = "network:router_gateway";

    string Path(string action) => $"/v2.0/routers/{Uri.EscapeDataString(Id)}/{action}";

    public async Task<IActionResult> OnPostAddInterfaceAsync()
    {
        if (string.IsNullOrEmpty(Subnet))
        {
            Errors.Add("Choose a subnet.");
            return await InvalidAsync(OnGetAsync);
        }
        try
        {
            await Cloud.PutAsync(Networking.Service, Path("add_router_interface"), new JsonObject { ["subnet_id"] = Subnet });
            Flash = "Interface added.";
            return RedirectToPage(new { id = Id });
        }
        catch (CloudException e) when (e.Status != 401)
        {
            return await RefusedAsync("Failed to add interface", e, OnGetAsync);
        }
    }

    public Task<IActionResult> OnPostRemoveInterfaceAsync([FromForm] string port, [FromForm] string? address) =>
        ActAsync(() => Cloud.PutAsync(Networking.Service, Path("remove_router_interface"), new JsonObject { ["port_id"] = port }),
            $"Removed interface {address ?? port}.", routeValues: new { id = Id }, failed: $"Unable to remove interface {address ?? port}");
}
