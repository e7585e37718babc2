using Stratus.Compute.Api;
using Stratus.Compute.Network;
using Stratus.Compute.Placement;
using Stratus.Compute.Rpc;
using Stratus.Core.Services;

namespace Stratus.Compute.Servers;

/// <summary>Deleting a server (DELETE and forceDelete alike), as nova.compute.api's delete does it.</summary>
static class ServerDeletion
{
    /// <summary>
    /// Its host's agent destroys the guest and reports it gone; a server no agent can act on (never
    /// scheduled, or its host is down) is deleted here at once, Nova's local delete, and a host that
    /// returns reaps the guest.
    /// </summary>
    public static async Task DeleteAsync(Instance instance, HttpContext http, CellDb db, ApiDb apiDb, ComputeApi compute, ServiceGroup group,
        PlacementClient placement, CancellationToken ct)
    {
        var id = instance.Uuid;
        await apiDb.ServerGroupMembers.Where(m => m.InstanceUuid == id).ExecuteDeleteAsync(ct);
        InstanceActions.Start(db, http, id, "delete");
        var service = instance.Host is null ? null
            : await db.Services.FirstOrDefaultAsync(s => s.Host == instance.Host && s.Binary == NovaOptions.Compute, ct);
        if (service is null || !group.IsUp(service))
        {
            await db.SaveInstanceAsync(instance, i => i.MarkDeleted(), ct);
            try
            {
                await placement.DeleteAllocationsAsync(id, ct);
            }
            catch (PlacementException)
            {
            }
            return;
        }
        await db.SaveInstanceAsync(instance, i =>
        {
            i.TaskState = TaskStates.Deleting;
            i.Touch();
        }, ct);
        await compute.CastAsync(service.Host, new TerminateInstance(id) { NetworkInfo = ServerNetworks.Vifs(instance.NetworkInfoJson) }, ct);
    }
}
