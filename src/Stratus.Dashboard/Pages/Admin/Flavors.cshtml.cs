using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Admin;

/// <summary>The selected region's flavors: list, create, delete.</summary>
public sealed class FlavorsModel : CloudPageModel
{
    public IReadOnlyList<JsonObject> Flavors { get; private set; } = [];

    [BindProperty] public string? Name { get; set; }
    [BindProperty] public int? Vcpus { get; set; } = 1;
    [BindProperty] public int? Ram { get; set; } = 128;
    [BindProperty] public int? Disk { get; set; } = 1;

    public async Task OnGetAsync()
    {
        Flavors = ((await TryAsync(() => Cloud.GetAsync("compute", "/flavors/detail?is_public=None")))?["flavors"] as JsonArray ?? [])
            .OfType<JsonObject>().OrderBy(f => (int?)f["ram"] ?? 0).ToList();
    }

    public async Task<IActionResult> OnPostCreateAsync()
    {
        Name = Name?.Trim();
        if (string.IsNullOrEmpty(Name)) Errors.Add("Name is required.");
        if (Vcpus is not > 0) Errors.Add("VCPUs must be a positive number.");
        if (Ram is not > 0) Errors.Add("RAM must be a positive number of MiB.");
        if (Disk is not >= 0) Errors.Add("Root Disk must be zero or more GiB.");
        if (Errors.Count == 0)
        {
            try
            {
                await Cloud.PostAsync("compute", "/flavors", new JsonObject
                {
                    ["flavor"] = new JsonObject { ["name"] = Name, ["vcpus"] = Vcpus, ["ram"] = Ram, ["disk"] = Disk },
                });
                Flash = $"Created flavor {Name}.";
                return RedirectToPage();
            }
            catch (CloudException e) when (e.Status != 401)
            {
                Errors.Add(e.Message);
            }
        }
        Response.StatusCode = 400;
        await OnGetAsync();
        return Page();
    }

    public Task<IActionResult> OnPostDeleteAsync([FromForm] string id, [FromForm] string? name) =>
        ActAsync(() => Cloud.DeleteAsync("compute", "/flavors/" + Uri.EscapeDataString(id)), $"Deleted flavor {name ?? id}.");
}
