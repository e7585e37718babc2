namespace Stratus.Dashboard.Pages.Admin;

/// <summary>The selected region's hypervisors and their capacity (<c>openstack hypervisor list --long</c>).</summary>
public sealed class HypervisorsModel : CloudPageModel
{
    public List<string?[]> Rows { get; } = [];

    public async Task OnGetAsync()
    {
        foreach (var h in ((await TryAsync(() => Cloud.GetAsync("compute", "/os-hypervisors/detail")))?["hypervisors"] as JsonArray ?? []).OfType<JsonObject>())
            Rows.Add([(string?)h["hypervisor_hostname"], (string?)h["hypervisor_type"], (string?)h["state"], (string?)h["status"],
                $"{h["vcpus_used"]} / {h["vcpus"]}", $"{h["memory_mb_used"]} / {h["memory_mb"]} MiB", $"{h["local_gb_used"]} / {h["local_gb"]} GiB",
                h["running_vms"]?.ToString(), (string?)h["host_ip"]]);
    }
}
