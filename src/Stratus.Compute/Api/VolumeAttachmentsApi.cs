using System.Text.RegularExpressions;
using Stratus.Compute.Rpc;
using Stratus.Compute.Volumes;
using Stratus.Core.Messaging;

namespace Stratus.Compute.Api;

/// <summary>
/// <c>/servers/{id}/os-volume_attachments</c>: a server's volumes, attached to the running guest or detached
/// from it as Nova Zed does with block storage's attachments API — the API reserves an attachment as the
/// user, the server's host connects it, hot-plugs the disk and completes it; detaching marks the volume
/// detaching and the host unplugs the disk and deletes the attachment.
/// </summary>
public static partial class VolumeAttachmentsApi
{
    /// <summary>compute.api's check_instance_state for attach_volume and detach_volume (no shelving here).</summary>
    static readonly string[] States = [VmStates.Active, VmStates.Paused, VmStates.Stopped, VmStates.Resized];

    /// <summary>nova.block_device.match_device, the schema's pattern for <c>device</c>.</summary>
    [GeneratedRegex("(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$")]
    private static partial Regex DevicePattern();

    public static RouteGroupBuilder MapVolumeAttachments(this RouteGroupBuilder v21)
    {
        var attachments = v21.MapGroup("/servers/{id}/os-volume_attachments");
        attachments.MapGet("", ListAsync).RequirePolicy("os_compute_api:os-volumes-attachments:index");
        attachments.MapGet("/{volumeId}", ShowAsync).RequirePolicy("os_compute_api:os-volumes-attachments:show");
        attachments.MapPost("", AttachAsync).RequirePolicy("os_compute_api:os-volumes-attachments:create");
        attachments.MapPut("/{volumeId}", UpdateAsync);
        attachments.MapDelete("/{volumeId}", DetachAsync).RequirePolicy("os_compute_api:os-volumes-attachments:delete");
        return v21;
    }

    /// <summary>_translate_attachment_detail_view: the volume id as the attachment's id until 2.89, then the attachment's and mapping's ids.</summary>
    static JsonObject View(BlockDeviceMapping bdm, ApiVersionRequest v)
    {
        var o = new JsonObject();
        if (!v.AtLeast(89)) o["id"] = bdm.VolumeId;
        o["volumeId"] = bdm.VolumeId;
        o["serverId"] = bdm.InstanceUuid;
        if (bdm.DeviceName is { } device) o["device"] = device;
        if (v.AtLeast(70)) o["tag"] = bdm.Tag;
        if (v.AtLeast(79)) o["delete_on_termination"] = bdm.DeleteOnTermination;
        if (v.AtLeast(89))
        {
            o["attachment_id"] = bdm.AttachmentId;
            o["bdm_uuid"] = bdm.Uuid;
        }
        return o;
    }

    static async Task<IResult> ListAsync(string id, HttpContext http, CellDb db, CancellationToken ct)
    {
        var instance = await ComputeAccess.FindServerAsync(db, id, http.Caller(), ct);
        var bdms = await db.BlockDeviceMappings.Where(b => b.InstanceUuid == instance.Uuid && b.VolumeId != null).OrderBy(b => b.CreatedAt).ToListAsync(ct);
        var v = Microversion.Of(http);
        return new JsonResponse(new JsonObject
        {
            ["volumeAttachments"] = new JsonArray([.. Paging.Limited(bdms, http.Request.Query).Select(b => (JsonNode)View(b, v))]),
        });
    }

    static async Task<IResult> ShowAsync(string id, string volumeId, HttpContext http, CellDb db, CancellationToken ct)
    {
        var instance = await ComputeAccess.FindServerAsync(db, id, http.Caller(), ct);
        return new JsonResponse(new JsonObject { ["volumeAttachment"] = View(await MappingAsync(db, instance, volumeId, ct), Microversion.Of(http)) });
    }

    static async Task<BlockDeviceMapping> MappingAsync(CellDb db, Instance instance, string volumeId, CancellationToken ct) =>
        await db.BlockDeviceMappings.FirstOrDefaultAsync(b => b.InstanceUuid == instance.Uuid && b.VolumeId == volumeId, ct)
            ?? throw OpenStackError.NotFound($"Instance {instance.Uuid} is not attached to volume {volumeId}");

    static async Task<IResult> AttachAsync(string id, HttpContext http, CellDb db, ComputeApi compute, CinderClient cinder, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = Microversion.Of(http);
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        body.Only("body", "volumeAttachment");
        var attachment = body.Object("volumeAttachment");
        var allowed = new List<string> { "volumeId", "device" };
        if (v.AtLeast(49)) allowed.Add("tag");
        if (v.AtLeast(79)) allowed.Add("delete_on_termination");
        attachment.Only("volumeAttachment", [.. allowed]);
        var volumeId = attachment.RequiredString("volumeId");
        if (!Guid.TryParse(volumeId, out _)) throw NovaBody.Invalid("volumeAttachment/volumeId", attachment["volumeId"], "is not a 'uuid'");
        if (attachment["device"] is { } d && (d.GetValueKind() != System.Text.Json.JsonValueKind.String || !DevicePattern().IsMatch((string)d!)))
            throw NovaBody.Invalid("volumeAttachment/device", d, "does not match '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$'");
        var tag = attachment.OptionalString("tag", 60);
        var deleteOnTermination = attachment.ContainsKey("delete_on_termination") && NovaBody.Bool("delete_on_termination", attachment["delete_on_termination"]);

        var instance = await ComputeAccess.FindServerAsync(db, id, caller, ct);
        if (instance.Locked && !caller.IsAdmin) throw OpenStackError.Conflict($"Instance {id} is locked");
        instance.CheckState("attach_volume", States);
        if (instance.Host is null) throw OpenStackError.Conflict($"Cannot 'attach_volume' instance {id} while it is in vm_state {instance.VmState}");
        var volume = await CallAsync(() => cinder.GetVolumeAsync(volumeId, caller.Token, instance.ProjectId, ct))
            ?? throw OpenStackError.NotFound($"Volume {volumeId} could not be found.");
        if (await db.BlockDeviceMappings.AnyAsync(b => b.InstanceUuid == instance.Uuid && b.VolumeId == volumeId, ct))
            throw OpenStackError.BadRequest($"Invalid volume: volume {volumeId} already attached to instance {id}");
        if ((bool?)volume["multiattach"] == true && !v.AtLeast(60))
            throw OpenStackError.BadRequest("Multiattach volumes are only supported starting with compute API version 2.60.");

        // Reserving the volume is block storage's check: a volume in use (and not multiattach) is its 400.
        var attachmentId = await CallAsync(() => cinder.CreateAttachmentAsync(volumeId, instance.Uuid, caller.Token, instance.ProjectId, ct));
        var bdm = new BlockDeviceMapping
        {
            Uuid = Guid.NewGuid().ToString(), InstanceUuid = instance.Uuid, VolumeId = volumeId, AttachmentId = attachmentId, Tag = tag,
            DeleteOnTermination = deleteOnTermination, DeviceName = await NextDeviceAsync(db, instance.Uuid, ct), CreatedAt = DateTime.UtcNow,
        };
        db.BlockDeviceMappings.Add(bdm);
        InstanceActions.Start(db, http, instance.Uuid, "attach_volume");
        await db.SaveChangesAsync(ct);
        try
        {
            bdm.ConnectionInfoJson = await compute.CallAsync(instance.Host, new AttachVolume(instance.Uuid, volumeId, attachmentId, instance.ProjectId, caller.Token)
            {
                Mountpoint = bdm.DeviceName,
            },
                ComputeRpc.CallTimeout, ct);
        }
        catch (Exception e) when (e is RpcRemoteException or RpcTimeoutException)
        {
            // The host deleted the attachment (the volume is free again); the mapping goes too.
            db.BlockDeviceMappings.Remove(bdm);
            await db.SaveChangesAsync(CancellationToken.None);
            throw OpenStackError.BadRequest($"Failed to attach volume {volumeId} to instance {id}: {e.Message}");
        }
        await db.SaveChangesAsync(ct);
        var view = View(bdm, v);
        // The create's answer keeps the volume id as its id at every version, and the tag and flag as asked.
        view["id"] = volumeId;
        view.Remove("attachment_id");
        view.Remove("bdm_uuid");
        return new JsonResponse(new JsonObject { ["volumeAttachment"] = view });
    }

    /// <summary>
    /// Before 2.85 only a swap to another volume (which this compute driver cannot do); from 2.85 the same
    /// volume with a new delete_on_termination, every other field as it is.
    /// </summary>
    static async Task<IResult> UpdateAsync(string id, string volumeId, HttpContext http, CellDb db, CancellationToken ct)
    {
        var v = Microversion.Of(http);
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        body.Only("body", "volumeAttachment");
        var attachment = body.Object("volumeAttachment");
        var newVolume = attachment.RequiredString("volumeId");
        var caller = http.Caller();
        if (!v.AtLeast(85) || newVolume != volumeId)
        {
            http.Enforce("os_compute_api:os-volumes-attachments:swap");
            var swapping = await ComputeAccess.FindServerAsync(db, id, caller, ct);
            await MappingAsync(db, swapping, volumeId, ct);
            throw OpenStackError.BadRequest("Swapping the volume of a server is not supported by this compute driver.");
        }
        http.Enforce("os_compute_api:os-volumes-attachments:update");
        attachment.Only("volumeAttachment", "volumeId", "device", "tag", "delete_on_termination", "id", "serverId");
        var instance = await ComputeAccess.FindServerAsync(db, id, caller, ct);
        if (instance.Locked && !caller.IsAdmin) throw OpenStackError.Conflict($"Instance {id} is locked");
        var bdm = await MappingAsync(db, instance, volumeId, ct);
        // _update_volume_regular: only delete_on_termination may change.
        foreach (var (field, current) in new[] { ("id", (string?)volumeId), ("serverId", instance.Uuid), ("device", bdm.DeviceName), ("tag", bdm.Tag) })
            if (attachment.ContainsKey(field) && (string?)attachment[field] != current)
                throw OpenStackError.BadRequest($"The {field} property is not mutable");
        if (attachment.ContainsKey("delete_on_termination"))
        {
            bdm.DeleteOnTermination = NovaBody.Bool("delete_on_termination", attachment["delete_on_termination"]);
            await db.SaveChangesAsync(ct);
        }
        return Results.Accepted();
    }

    static async Task<IResult> DetachAsync(string id, string volumeId, HttpContext http, CellDb db, ComputeApi compute, CinderClient cinder, CancellationToken ct)
    {
        var caller = http.Caller();
        var instance = await ComputeAccess.FindServerAsync(db, id, caller, ct);
        if (await CallAsync(() => cinder.GetVolumeAsync(volumeId, caller.Token, instance.ProjectId, ct)) is null)
            throw OpenStackError.NotFound($"Volume {volumeId} could not be found.");
        var bdm = await MappingAsync(db, instance, volumeId, ct);
        if (bdm.BootIndex == 0) throw OpenStackError.BadRequest("Cannot detach a root device volume");
        if (instance.Locked && !caller.IsAdmin) throw OpenStackError.Conflict($"Instance {id} is locked");
        instance.CheckState("detach_volume", States);
        if (instance.Host is null || bdm.AttachmentId is null) throw OpenStackError.Conflict($"Cannot 'detach_volume' instance {id} while it is in vm_state {instance.VmState}");
        // Block storage refuses a volume that is not in-use (being attached or detached already): its 400.
        await DoAsync(() => cinder.BeginDetachingAsync(volumeId, caller.Token, instance.ProjectId, ct));
        InstanceActions.Start(db, http, instance.Uuid, "detach_volume");
        await db.SaveChangesAsync(ct);
        await compute.CastAsync(instance.Host, new DetachVolume(instance.Uuid, volumeId, bdm.AttachmentId, instance.ProjectId, caller.Token), ct);
        return Results.Accepted();
    }

    /// <summary>The next free virtio name after the root disk (vda), as libvirt's get_disk_mapping hands them out.</summary>
    static async Task<string> NextDeviceAsync(CellDb db, string instanceUuid, CancellationToken ct)
    {
        var used = (await db.BlockDeviceMappings.Where(b => b.InstanceUuid == instanceUuid).Select(b => b.DeviceName).ToListAsync(ct)).ToHashSet();
        for (var c = 'b'; c <= 'z'; c++)
            if (!used.Contains($"/dev/vd{c}")) return $"/dev/vd{c}";
        throw OpenStackError.Forbidden("The maximum allowed number of disk devices (26) to attach to a single instance has been exceeded.");
    }

    /// <summary>A call to block storage: its refusals are the caller's 4xx (with its message), its absence a 503 naming <c>[cinder]</c>.</summary>
    public static async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (CinderException e)
        {
            throw e.Status switch
            {
                0 => OpenStackError.Unavailable(e.Message),
                404 => OpenStackError.NotFound(e.Message),
                // Over quota (413 there) is Nova's 403, as its OverQuota everywhere.
                403 or 413 => OpenStackError.Forbidden(e.Message),
                409 => OpenStackError.Conflict(e.Message),
                >= 400 and < 500 => OpenStackError.BadRequest(e.Message),
                _ => new OpenStackError(500, "Internal Server Error", $"Unexpected API Error. The block storage service answered: {e.Message}"),
            };
        }
    }

    static async Task DoAsync(Func<Task> call) => await CallAsync(async () =>
    {
        await call();
        return true;
    });
}
