using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.Volumes;

/// <summary>The project's volume snapshots in the selected region (made from the Volumes page): list, delete.</summary>
public sealed class SnapshotsModel : VolumePageModel
{
    public IReadOnlyList<JsonObject> Snapshots { get; private set; } = [];
    public Dictionary<string, string> VolumeNames { get; } = [];

    public bool Watching => Snapshots.Any(BlockStorage.IsTransitional);

    public async Task OnGetAsync()
    {
        Snapshots = await ReadAsync(() => Cloud.DetailAsync("snapshots"));
        if (Snapshots.Count == 0) return;
        foreach (var v in await ReadAsync(() => Cloud.DetailAsync("volumes")))
            VolumeNames[(string)v["id"]!] = Networking.NameOf(v);
    }

    public Task<IActionResult> OnPostDeleteAsync([FromForm] string id, [FromForm] string? name) =>
        ActAsync(() => Cloud.DropAsync("snapshots", id), $"Scheduled deletion of volume snapshot \"{name ?? id}\".", failed: $"Unable to delete volume snapshot \"{name ?? id}\"");
}
