using Stratus.Compute.Api;
using Stratus.Compute.Network;
using Stratus.Compute.Placement;
using Stratus.Compute.Rpc;
using Stratus.Compute.Volumes;
using Microsoft.Extensions.DependencyInjection;
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
            // The conductor may have sent the build to a host while this was decided (the save above then saw its
            // host): that host undoes whatever it makes, as it does when it comes back.
            // Nova's local delete releases the volumes itself (no host will).
            await ReleaseVolumesAsync(instance, http.Caller(), db, http.RequestServices.GetRequiredService<CinderClient>(), ct);
            if (instance.Host is { } host) await compute.CastAsync(host, Terminate(instance, [], http.Caller()), ct);
            return;
        }
        await db.SaveInstanceAsync(instance, i =>
        {
            i.TaskState = TaskStates.Deleting;
            i.Touch();
        }, ct);
        await compute.CastAsync(service.Host, Terminate(instance, await VolumesAsync(db, id, ct), http.Caller()), ct);
    }

    static async Task<List<VolumeAttachment>> VolumesAsync(CellDb db, string uuid, CancellationToken ct) =>
        [.. (await db.BlockDeviceMappings.Where(b => b.InstanceUuid == uuid && b.VolumeId != null && b.AttachmentId != null).ToListAsync(ct))
            .Select(b => new VolumeAttachment(b.VolumeId!, b.AttachmentId!, b.DeleteOnTermination))];

    static async Task ReleaseVolumesAsync(Instance instance, Caller caller, CellDb db, CinderClient cinder, CancellationToken ct)
    {
        foreach (var v in await VolumesAsync(db, instance.Uuid, ct))
            try
            {
                await cinder.ReleaseAsync(v, caller.Token, instance.ProjectId, ct);
            }
            catch (CinderException)
            {
                // What is left is block storage's to show (the volume stays attached there); the server goes regardless, as in Nova.
            }
        await db.BlockDeviceMappings.Where(b => b.InstanceUuid == instance.Uuid).ExecuteDeleteAsync(ct);
    }

    static TerminateInstance Terminate(Instance instance, IReadOnlyList<VolumeAttachment> volumes, Caller caller)
    {
        var (vifs, requested) = (ServerNetworks.Vifs(instance.NetworkInfoJson), ServerNetworks.Requested(instance.RequestedNetworksJson));
        return new(instance.Uuid)
        {
            NetworkInfo = vifs, UserPorts = [.. requested.Select(r => r.PortId).OfType<string>()], Networked = vifs.Count > 0 || requested.Count > 0,
            Volumes = volumes, Token = caller.Token, ProjectId = instance.ProjectId,
        };
    }
}
