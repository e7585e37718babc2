using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.Volumes;

/// <summary>
/// The project's volumes in the selected region: create (empty or from an image), attach to an instance and detach
/// (through the compute service, as Horizon's "Manage Attachments"), snapshot, delete; the list watched while a
/// volume is in transition.
/// </summary>
public sealed class IndexModel : VolumePageModel
{
    public IReadOnlyList<JsonObject> Volumes { get; private set; } = [];
    public IReadOnlyList<(string Id, string Name)> Images { get; private set; } = [];
    /// <summary>The project's instances, by id: what a volume may be attached to.</summary>
    public Dictionary<string, string> Servers { get; } = [];

    [BindProperty] public string? Name { get; set; }
    [BindProperty] public string? Gigabytes { get; set; } = "1";
    [BindProperty] public string? Image { get; set; }

    public bool Watching => Volumes.Any(BlockStorage.IsTransitional);

    public async Task OnGetAsync()
    {
        Volumes = await ReadAsync(() => Cloud.DetailAsync("volumes"));
        if (await TryAsync(() => Cloud.HasServiceAsync("compute")))
            foreach (var s in ((await TryAsync(() => Cloud.GetAsync("compute", "/servers")))?["servers"] as JsonArray ?? []).OfType<JsonObject>())
                Servers[(string)s["id"]!] = (string?)s["name"] ?? "";
        if (await TryAsync(() => Cloud.HasServiceAsync("image")))
            Images = ((await TryAsync(() => Cloud.GetAsync("image", "/v2/images?status=active&limit=1000")))?["images"] as JsonArray ?? []).OfType<JsonObject>()
                .Select(i => ((string)i["id"]!, Networking.NameOf(i))).OrderBy(i => i.Item2, StringComparer.Ordinal).ToList();
    }

    public string ServerName(string id) => Servers.GetValueOrDefault(id, id);

    public async Task<IActionResult> OnPostCreateAsync()
    {
        Name = Name?.Trim() ?? "";
        if (!int.TryParse(Gigabytes, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size < 1)
        {
            Errors.Add("Size (GiB) must be a whole number, at least 1.");
            return await InvalidAsync(OnGetAsync);
        }
        var volume = new JsonObject { ["name"] = Name, ["size"] = size };
        if (!string.IsNullOrEmpty(Image)) volume["imageRef"] = Image;
        try
        {
            var created = await Cloud.MakeAsync("volumes", "volume", volume);
            Flash = $"Creating volume \"{Networking.NameOf(created)}\".";
            return RedirectToPage();
        }
        catch (CloudException e) when (e.Status != 401)
        {
            return await RefusedAsync($"Unable to create volume \"{Name}\"", e, OnGetAsync);
        }
    }

    public Task<IActionResult> OnPostDeleteAsync([FromForm] string id, [FromForm] string? name) =>
        ActAsync(() => Cloud.DropAsync("volumes", id), $"Scheduled deletion of volume \"{name ?? id}\".", failed: $"Unable to delete volume \"{name ?? id}\"");

    public Task<IActionResult> OnPostAttachAsync([FromForm] string id, [FromForm] string? name, [FromForm] string? server)
    {
        if (string.IsNullOrEmpty(server))
        {
            FlashError = "Choose an instance to attach the volume to.";
            return Task.FromResult<IActionResult>(RedirectToPage());
        }
        return ActAsync(() => Cloud.AttachAsync(server, id), $"Attaching volume \"{name ?? id}\".",
            failed: $"Unable to attach volume \"{name ?? id}\"");
    }

    public Task<IActionResult> OnPostDetachAsync([FromForm] string id, [FromForm] string? name, [FromForm] string server, [FromForm] string? serverName) =>
        ActAsync(() => Cloud.DetachAsync(server, id), $"Detaching volume \"{name ?? id}\" from instance \"{serverName ?? server}\".",
            failed: $"Unable to detach volume \"{name ?? id}\"");

    public Task<IActionResult> OnPostSnapshotAsync([FromForm] string id, [FromForm] string? name, [FromForm] string? snapshot) =>
        ActAsync(() => Cloud.MakeAsync("snapshots", "snapshot", new JsonObject { ["volume_id"] = id, ["name"] = snapshot?.Trim() ?? "" }),
            $"Creating volume snapshot \"{snapshot}\" of volume \"{name ?? id}\".", failed: $"Unable to create volume snapshot of \"{name ?? id}\"");
}
