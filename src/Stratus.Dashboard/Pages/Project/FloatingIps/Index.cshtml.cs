using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.FloatingIps;

/// <summary>The project's floating IPs in the selected region: allocate from a pool (an external network), associate with an instance's port, disassociate, release.</summary>
public sealed class IndexModel : NetworkPageModel
{
    public IReadOnlyList<JsonObject> FloatingIps { get; private set; } = [];
    public IReadOnlyList<JsonObject> Pools { get; private set; } = [];
    /// <summary>What a floating IP may be associated with: an instance's port and fixed IP ("PORT_IP", label "instance: IP").</summary>
    public IReadOnlyList<(string Value, string Label)> Targets { get; private set; } = [];
    public Dictionary<string, string> ServerNames { get; } = [];

    [BindProperty] public string? Pool { get; set; }

    public async Task OnGetAsync()
    {
        FloatingIps = (await ReadAsync(() => Cloud.OwnAsync("floatingips"))).OrderBy(f => (string?)f["floating_ip_address"], StringComparer.Ordinal).ToList();
        Pools = await ReadAsync(Cloud.ExternalNetworksAsync);
        if (await TryAsync(() => Cloud.HasServiceAsync("compute")))
            foreach (var s in ((await TryAsync(() => Cloud.GetAsync("compute", "/servers")))?["servers"] as JsonArray ?? []).OfType<JsonObject>())
                ServerNames[(string)s["id"]!] = (string?)s["name"] ?? "";
        var taken = FloatingIps.Select(f => (string?)f["port_id"]).OfType<string>().ToHashSet();
        Targets = (await ReadAsync(() => Cloud.OwnAsync("ports")))
            .Where(p => ((string?)p["device_owner"])?.StartsWith("compute:", StringComparison.Ordinal) == true && !taken.Contains((string)p["id"]!))
            .SelectMany(p => (p["fixed_ips"] as JsonArray ?? []).Select(a => (string?)a?["ip_address"]).OfType<string>().Where(ip => !ip.Contains(':'))
                .Select(ip => ($"{p["id"]}_{ip}", $"{ServerNames.GetValueOrDefault((string?)p["device_id"] ?? "", (string?)p["device_id"] ?? "")}: {ip}")))
            .OrderBy(t => t.Item2, StringComparer.Ordinal).ToList();
    }

    public string PoolName(string? id) => Pools.FirstOrDefault(n => (string?)n["id"] == id) is { } n ? Networking.NameOf(n) : id ?? "";

    public async Task<IActionResult> OnPostAllocateAsync()
    {
        if (string.IsNullOrEmpty(Pool))
        {
            Errors.Add("Choose a pool.");
            return await InvalidAsync(OnGetAsync);
        }
        try
        {
            var created = await Cloud.CreateAsync("floatingips", "floatingip", new JsonObject { ["floating_network_id"] = Pool });
            Flash = $"Allocated Floating IP {created["floating_ip_address"]}.";
            return RedirectToPage();
        }
        catch (CloudException e) when (e.Status != 401)
        {
            return await RefusedAsync("Unable to allocate Floating IP", e, OnGetAsync);
        }
    }

    public Task<IActionResult> OnPostAssociateAsync([FromForm] string id, [FromForm] string? address, [FromForm] string? target)
    {
        if (target?.Split('_', 2) is not [var port, var ip])
        {
            FlashError = "Choose a port to be associated.";
            return Task.FromResult<IActionResult>(RedirectToPage());
        }
        return ActAsync(() => Cloud.UpdateAsync("floatingips", "floatingip", id, new JsonObject { ["port_id"] = port, ["fixed_ip_address"] = ip }),
            $"Associated Floating IP {address} with {ip}.", failed: $"Unable to associate Floating IP {address}");
    }

    public Task<IActionResult> OnPostDisassociateAsync([FromForm] string id, [FromForm] string? address) =>
        ActAsync(() => Cloud.UpdateAsync("floatingips", "floatingip", id, new JsonObject { ["port_id"] = null }),
            $"Disassociated Floating IP {address}.", failed: $"Unable to disassociate Floating IP {address}");

    public Task<IActionResult> OnPostReleaseAsync([FromForm] string id, [FromForm] string? address) =>
        ActAsync(() => Cloud.RemoveAsync("floatingips", id), $"Released Floating IP {address}.", failed: $"Unable to release Floating IP {address}");
}
