using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.SecurityGroups;

/// <summary>The project's security groups in the selected region: list, create, delete (rules on each group's page).</summary>
public sealed class IndexModel : NetworkPageModel
{
    public IReadOnlyList<JsonObject> Groups { get; private set; } = [];

    [BindProperty] public string? Name { get; set; }
    [BindProperty] public string? Description { get; set; }

    public async Task OnGetAsync() =>
        Groups = (await ReadAsync(() => Cloud.OwnAsync("security-groups"))).OrderBy(Networking.NameOf, StringComparer.Ordinal).ToList();

    public async Task<IActionResult> OnPostCreateAsync()
    {
        Name = Name?.Trim();
        if (string.IsNullOrEmpty(Name))
        {
            Errors.Add("Name is required.");
            return await InvalidAsync(OnGetAsync);
        }
        try
        {
            var created = await Cloud.CreateAsync("security-groups", "security_group", new JsonObject { ["name"] = Name, ["description"] = Description?.Trim() ?? "" });
            Flash = $"Created security group \"{Name}\".";
            return RedirectToPage("/Project/SecurityGroups/Detail", new { id = (string?)created["id"] });
        }
        catch (CloudException e) when (e.Status != 401)
        {
            return await RefusedAsync($"Unable to create security group \"{Name}\"", e, OnGetAsync);
        }
    }

    public Task<IActionResult> OnPostDeleteAsync([FromForm] string id, [FromForm] string? name) =>
        ActAsync(() => Cloud.RemoveAsync("security-groups", id), $"Deleted security group \"{name ?? id}\".",
            failed: $"Unable to delete security group \"{name ?? id}\"");
}
