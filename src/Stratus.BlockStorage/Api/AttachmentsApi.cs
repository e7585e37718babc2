namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/attachments</c> (3.27+), the attach flow Nova Zed uses: create reserves the volume (or, with a connector,
/// starts attaching it), update with the host's connector answers the backend's connection info, <c>os-complete</c>
/// (3.44+) makes the volume in-use, delete detaches it.
/// </summary>
public static class AttachmentsApi
{
    public static void MapAttachments(this RouteGroupBuilder project)
    {
        var attachments = project.MapGroup("/attachments");
        attachments.MapPost("", Create).From(27);
        attachments.MapGet("", (HttpContext http, CinderDb db, CancellationToken ct) => List(http, db, detail: false, ct)).From(27);
        attachments.MapGet("/detail", (HttpContext http, CinderDb db, CancellationToken ct) => List(http, db, detail: true, ct)).From(27);
        attachments.MapGet("/{id}", Show).From(27);
        attachments.MapPut("/{id}", Update).From(27);
        attachments.MapDelete("/{id}", Delete).From(27);
        attachments.MapPost("/{id}/action", Complete).From(44);
    }

    static JsonObject Summary(VolumeAttachment a) => new()
    {
        ["id"] = a.Id,
        ["status"] = a.AttachStatus,
        ["instance"] = a.InstanceUuid,
        ["volume_id"] = a.VolumeId,
    };

    static JsonObject Detail(VolumeAttachment a)
    {
        var o = Summary(a);
        o["attached_at"] = CinderApi.Time(a.AttachTime) ?? "";
        o["detached_at"] = CinderApi.Time(a.DetachTime) ?? "";
        o["attach_mode"] = a.AttachMode;
        o["connection_info"] = a.ConnectionInfo is null ? new JsonObject() : JsonNode.Parse(a.ConnectionInfo);
        return o;
    }

    static async Task<VolumeAttachment> FindAsync(HttpContext http, CinderDb db, string id, CancellationToken ct)
    {
        var a = await db.Attachments.FirstOrDefaultAsync(x => x.Id == id, ct);
        return a is not null && http.CanSee(a.ProjectId ?? "") ? a : throw OpenStackError.NotFound($"Volume attachment could not be found with filter: attachment_id = {id}.");
    }

    static async Task<IResult> Create(HttpContext http, CinderDb db, Rpc.VolumeApi volumes, CancellationToken ct)
    {
        var body = await http.BodyAsync("attachment");
        var volumeId = body.OptionalString("volume_uuid") ?? throw CinderApi.Invalid("attachment", body, "'volume_uuid' is a required property");
        var v = await VolumesApi.FindAsync(http, db, volumeId, ct);
        http.Authorize("volume:attachment_create", v.ProjectId, v.UserId);
        var connector = body["connector"] as JsonObject;
        var mode = http.Version().AtLeast(54) ? body.OptionalString("mode") ?? "null" : "null";
        if (mode is not ("null" or "rw" or "ro")) throw CinderApi.Invalid("mode", body["mode"], $"'{mode}' is not one of ['rw', 'ro', 'null']");
        if (v.Status is VolumeStatus.Error or VolumeStatus.ErrorDeleting or VolumeStatus.ErrorExtending or VolumeStatus.ErrorRestoring)
            throw OpenStackError.BadRequest($"Invalid volume: Volume attachments can not be created if the volume is in an error state. The Volume {v.Id} currently has a status of: {v.Status} ");
        var allowed = v.Multiattach ? new[] { VolumeStatus.Available, VolumeStatus.InUse, VolumeStatus.Reserved, VolumeStatus.Downloading } : [VolumeStatus.Available, VolumeStatus.Downloading];
        var existing = await db.Attachments.AnyAsync(a => a.VolumeId == v.Id, ct);
        if (!allowed.Contains(v.Status) || (existing && !v.Multiattach))
            throw OpenStackError.BadRequest($"Invalid volume: Volume {v.Id} status must be {string.Join(" or ", allowed)} to reserve, but the current status is {v.Status}.");
        var now = http.Now();
        var a = new VolumeAttachment
        {
            Id = Guid.NewGuid().ToString(),
            VolumeId = v.Id,
            ProjectId = v.ProjectId,
            InstanceUuid = body.OptionalString("instance_uuid"),
            AttachMode = mode == "null" ? (v.ReadOnly ? "ro" : "rw") : mode,
            CreatedAt = now,
        };
        if (v.ReadOnly && a.AttachMode == "rw") throw OpenStackError.BadRequest($"Invalid attaching mode 'rw' for volume {v.Id}.");
        db.Attachments.Add(a);
        if (v.Status != VolumeStatus.InUse) v.Status = VolumeStatus.Reserved;
        if (connector is not null) await ConnectAsync(volumes, v, a, connector, ct);
        v.Touch(now);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["attachment"] = Detail(a) });
    }

    /// <summary>Cinder's attachment_update: the backend exports the volume to the connector's host; the volume is attaching until completed.</summary>
    static async Task ConnectAsync(Rpc.VolumeApi volumes, VolumeRow v, VolumeAttachment a, JsonObject connector, CancellationToken ct)
    {
        var info = (await VolumeActionsApi.ConnectionInfoAsync(volumes, v, connector, ct))?.AsObject() ?? [];
        info["attachment_id"] = a.Id;
        if (info["data"] is JsonObject data) data["access_mode"] = a.AttachMode;
        a.Connector = connector.ToJsonString();
        a.ConnectionInfo = info.ToJsonString();
        a.AttachedHost = connector.OptionalString("host");
        a.Mountpoint = connector.OptionalString("mountpoint");
        a.AttachStatus = "attaching";
        if (v.Status != VolumeStatus.InUse) v.Status = VolumeStatus.Attaching;
        v.AttachStatus = v.AttachStatus == "attached" ? "attached" : "attaching";
    }

    static async Task<IResult> List(HttpContext http, CinderDb db, bool detail, CancellationToken ct)
    {
        var q = http.Request.Query;
        IQueryable<VolumeAttachment> query = db.Attachments.AsNoTracking();
        if (http.ListedProject() is { } listed) query = query.Where(a => a.ProjectId == listed);
        if (q["volume_id"].FirstOrDefault() is { } volumeId) query = query.Where(a => a.VolumeId == volumeId);
        if ((q["status"].FirstOrDefault() ?? q["attach_status"].FirstOrDefault()) is { } status) query = query.Where(a => a.AttachStatus == status);
        if (q["instance_id"].FirstOrDefault() is { } instance) query = query.Where(a => a.InstanceUuid == instance);
        var rows = await query.OrderByDescending(a => a.CreatedAt).ToListAsync(ct);
        return new JsonResponse(new JsonObject { ["attachments"] = new JsonArray([.. rows.Select(a => (JsonNode)(detail ? Detail(a) : Summary(a)))]) });
    }

    static async Task<IResult> Show(string id, HttpContext http, CinderDb db, CancellationToken ct) =>
        new JsonResponse(new JsonObject { ["attachment"] = Detail(await FindAsync(http, db, id, ct)) });

    static async Task<IResult> Update(string id, HttpContext http, CinderDb db, Rpc.VolumeApi volumes, CancellationToken ct)
    {
        var a = await FindAsync(http, db, id, ct);
        var v = await VolumesApi.FindAsync(http, db, a.VolumeId, ct);
        http.Authorize("volume:attachment_update", v.ProjectId, v.UserId);
        var body = await http.BodyAsync("attachment");
        var connector = body["connector"] as JsonObject ?? throw CinderApi.Invalid("attachment", body, "'connector' is a required property");
        if (v.Status is VolumeStatus.Error or VolumeStatus.ErrorDeleting or VolumeStatus.Deleting or VolumeStatus.Maintenance)
            throw OpenStackError.BadRequest($"Invalid volume: Volume attachments can not be updated if the volume is in an error state. The Volume {v.Id} currently has a status of: {v.Status} ");
        await ConnectAsync(volumes, v, a, connector, ct);
        v.Touch(http.Now());
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["attachment"] = Detail(a) });
    }

    static async Task<IResult> Complete(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (!body.ContainsKey("os-complete")) throw OpenStackError.BadRequest("There is no such action: " + string.Join(",", body.Select(p => p.Key)));
        var a = await FindAsync(http, db, id, ct);
        var v = await VolumesApi.FindAsync(http, db, a.VolumeId, ct);
        http.Authorize("volume:attachment_complete", v.ProjectId, v.UserId);
        var now = http.Now();
        a.AttachStatus = "attached";
        a.AttachTime = now;
        v.Status = VolumeStatus.InUse;
        v.AttachStatus = "attached";
        v.Touch(now);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> Delete(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var a = await FindAsync(http, db, id, ct);
        var v = await VolumesApi.FindAsync(http, db, a.VolumeId, ct);
        http.Authorize("volume:attachment_delete", v.ProjectId, v.UserId);
        db.Attachments.Remove(a);
        var others = await db.Attachments.Where(x => x.VolumeId == v.Id && x.Id != a.Id).ToListAsync(ct);
        if (others.Any(x => x.AttachStatus == "attached"))
        {
            v.Status = VolumeStatus.InUse;
            v.AttachStatus = "attached";
        }
        else if (v.Status is VolumeStatus.InUse or VolumeStatus.Reserved or VolumeStatus.Attaching or VolumeStatus.Detaching)
        {
            v.Status = others.Count > 0 ? VolumeStatus.Reserved : VolumeStatus.Available;
            v.AttachStatus = "detached";
        }
        v.Touch(http.Now());
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["attachments"] = new JsonArray([.. others.Select(x => (JsonNode)Summary(x))]) });
    }
}
