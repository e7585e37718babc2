using Stratus.BlockStorage.Rpc;

namespace Stratus.BlockStorage.Api;

/// <summary><c>/snapshots</c>: point-in-time copies of a volume, made by the volume's backend; list, show, update, delete, metadata, admin actions.</summary>
public static class SnapshotsApi
{
    public static void MapSnapshots(this RouteGroupBuilder project)
    {
        var snapshots = project.MapGroup("/snapshots");
        snapshots.MapPost("", Create);
        snapshots.MapGet("", (HttpContext http, CinderDb db, CinderOptions o, CancellationToken ct) => List(http, db, o, detail: false, ct));
        snapshots.MapGet("/detail", (HttpContext http, CinderDb db, CinderOptions o, CancellationToken ct) => List(http, db, o, detail: true, ct));
        snapshots.MapGet("/{id}", Show);
        snapshots.MapPut("/{id}", Update);
        snapshots.MapDelete("/{id}", Delete);
        snapshots.MapPost("/{id}/action", Action);
        snapshots.MapMetadata(async (id, http, db, ct) =>
        {
            var s = await FindAsync(http, db, id, ct);
            return new MetadataApi.Owner(s.ProjectId, s.UserId, () => s.Metadata, m => s.Metadata = m, () => s.Touch(http.Now()));
        }, new("volume:get_snapshot_metadata", "volume:update_snapshot_metadata", "volume:update_snapshot_metadata", "volume:delete_snapshot_metadata"));
    }

    public static async Task<Snapshot> FindAsync(HttpContext http, CinderDb db, string id, CancellationToken ct) =>
        Visible(http, await db.Snapshots.FirstOrDefaultAsync(x => x.Id == id, ct), id);

    public static async Task<Snapshot> FindAsync(HttpContext http, CinderStore store, string id, CancellationToken ct) =>
        Visible(http, await store.SnapshotAsync(id, ct), id);

    static Snapshot Visible(HttpContext http, Snapshot? s, string id) =>
        s is not null && http.CanSee(s.ProjectId) ? s : throw OpenStackError.NotFound($"Snapshot {id} could not be found.");

    static JsonObject View(HttpContext http, Snapshot s, IReadOnlyDictionary<string, string> groupSnapshots, bool detail = true)
    {
        var o = new JsonObject
        {
            ["id"] = s.Id,
            ["created_at"] = CinderApi.Time(s.CreatedAt),
            ["updated_at"] = CinderApi.Time(s.UpdatedAt),
            ["name"] = s.Name,
            ["description"] = s.Description,
            ["volume_id"] = s.VolumeId,
            ["status"] = s.Status,
            ["size"] = s.VolumeSize,
            ["metadata"] = MetadataColumn.View(s.Metadata),
        };
        if (detail && http.IsAllowed("volume_extension:extended_snapshot_attributes", new Dictionary<string, string?> { ["project_id"] = s.ProjectId }))
        {
            o["os-extended-snapshot-attributes:progress"] = s.Progress;
            o["os-extended-snapshot-attributes:project_id"] = s.ProjectId;
        }
        var v = http.Version();
        if (v.AtLeast(14)) o["group_snapshot_id"] = groupSnapshots.GetValueOrDefault(s.Id);
        if (v.AtLeast(41)) o["user_id"] = s.UserId;
        if (v.AtLeast(65)) o["consumes_quota"] = true;
        return o;
    }

    static readonly Dictionary<string, string> NoGroupSnapshots = [];

    static async Task<Dictionary<string, string>> GroupSnapshotOfAsync(CinderDb db, string snapshotId, CancellationToken ct) =>
        await db.GroupSnapshotMembers.AsNoTracking().Where(m => m.SnapshotId == snapshotId).ToDictionaryAsync(m => m.SnapshotId, m => m.GroupSnapshotId, ct);

    static async Task<IResult> Create(HttpContext http, CinderDb db, Quotas quotas, VolumeApi volumes, CancellationToken ct)
    {
        var body = await http.BodyAsync("snapshot");
        // An explicit null reaches Cinder's volume lookup: not found (Tempest checks it); a missing one fails the schema.
        var volumeId = body.OptionalString("volume_id") ?? (body.ContainsKey("volume_id")
            ? throw OpenStackError.NotFound("Volume None could not be found.")
            : throw CinderApi.Invalid("snapshot", body, "'volume_id' is a required property"));
        var volume = await VolumesApi.FindAsync(http, db, volumeId, ct);
        http.Authorize("volume:create_snapshot", volume.ProjectId, volume.UserId);
        var force = body.ContainsKey("force") && body["force"] is not null && CinderApi.Bool(body, "force");
        var metadata = body["metadata"] is not null && body.ContainsKey("metadata") ? CinderApi.Metadata(body) : [];
        var inUseAllowed = force || http.Version().AtLeast(66);
        if (volume.Status != VolumeStatus.Available && !(inUseAllowed && volume.Status == VolumeStatus.InUse))
            throw OpenStackError.BadRequest(volume.Status == VolumeStatus.InUse
                ? "Invalid volume: The snapshot cannot be created when the volume is in use."
                : $"Invalid volume: Volume {volume.Id} status must be available, but current status is: {volume.Status}.");
        await quotas.CheckAsync(volume.ProjectId, "snapshots", volume.Size, volume.VolumeTypeId, ct);
        var caller = http.Caller();
        var s = new Snapshot
        {
            Id = Guid.NewGuid().ToString(),
            VolumeId = volume.Id,
            ProjectId = volume.ProjectId,
            UserId = caller.UserId,
            Name = body.OptionalString("name", allowEmpty: true) ?? body.OptionalString("display_name", allowEmpty: true),
            Description = body.OptionalString("description", allowEmpty: true) ?? body.OptionalString("display_description", allowEmpty: true),
            VolumeSize = volume.Size,
            Metadata = MetadataColumn.Write(metadata),
            CreatedAt = http.Now(),
        };
        db.Snapshots.Add(s);
        await db.SaveChangesAsync(ct);
        await volumes.CastAsync(volume.Backend, new CreateSnapshot(s.Id), ct);
        return new JsonResponse(new JsonObject { ["snapshot"] = View(http, s, NoGroupSnapshots, detail: false) }, 202);
    }

    static readonly string[] SortKeys = ["id", "name", "status", "size", "created_at", "updated_at", "volume_id", "display_name", "project_id"];

    static async Task<IResult> List(HttpContext http, CinderDb db, CinderOptions options, bool detail, CancellationToken ct)
    {
        var caller = http.Caller();
        http.Authorize("volume:get_all_snapshots", caller.ProjectId, caller.UserId);
        var q = http.Request.Query;
        var paging = Paging.Parse(http, options.OsapiMaxLimit, SortKeys);
        IQueryable<Snapshot> query = db.Snapshots.AsNoTracking();
        if (http.ListedProject() is { } listed) query = query.Where(s => s.ProjectId == listed);
        if ((q["name"].FirstOrDefault() ?? q["display_name"].FirstOrDefault()) is { } name) query = query.Where(s => s.Name == name);
        if (q["status"].FirstOrDefault() is { } status) query = query.Where(s => s.Status == status);
        if (q["volume_id"].FirstOrDefault() is { } volumeId) query = query.Where(s => s.VolumeId == volumeId);
        var rows = await query.ToListAsync(ct);
        var page = paging.Apply(rows, s => s.Id, (s, key) => key switch
        {
            "name" or "display_name" => s.Name,
            "status" => s.Status,
            "size" => s.VolumeSize,
            "created_at" => s.CreatedAt,
            "updated_at" => s.UpdatedAt,
            "volume_id" => s.VolumeId,
            "project_id" => s.ProjectId,
            _ => null,
        }, "snapshots");
        var ids = page.Select(s => s.Id).ToList();
        var groupSnapshots = await db.GroupSnapshotMembers.AsNoTracking().Where(m => ids.Contains(m.SnapshotId)).ToDictionaryAsync(m => m.SnapshotId, m => m.GroupSnapshotId, ct);
        var result = new JsonObject { ["snapshots"] = new JsonArray([.. page.Select(s => (JsonNode)View(http, s, groupSnapshots, detail))]) };
        if (paging.NextLinks(http, page.Count, page.LastOrDefault()?.Id, detail ? "snapshots/detail" : "snapshots") is { } links) result["snapshots_links"] = links;
        if (http.Version().AtLeast(45) && q["with_count"].FirstOrDefault() is "true" or "True" or "1") result["count"] = rows.Count;
        return new JsonResponse(result);
    }

    static async Task<IResult> Show(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var s = await FindAsync(http, db, id, ct);
        http.Authorize("volume:get_snapshot", s.ProjectId, s.UserId);
        return new JsonResponse(new JsonObject { ["snapshot"] = View(http, s, await GroupSnapshotOfAsync(db, s.Id, ct)) });
    }

    static async Task<IResult> Update(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var s = await FindAsync(http, db, id, ct);
        http.Authorize("volume:update_snapshot", s.ProjectId, s.UserId);
        var body = await http.BodyAsync("snapshot");
        if (body.Count == 0) throw OpenStackError.BadRequest("Invalid input for field/attribute snapshot. Value: {}. {} does not have enough properties");
        if (body.ContainsKey("name") || body.ContainsKey("display_name"))
            s.Name = body.OptionalString("name", allowEmpty: true) ?? body.OptionalString("display_name", allowEmpty: true);
        if (body.ContainsKey("description") || body.ContainsKey("display_description"))
            s.Description = body.OptionalString("description", allowEmpty: true) ?? body.OptionalString("display_description", allowEmpty: true);
        s.Touch(http.Now());
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["snapshot"] = View(http, s, await GroupSnapshotOfAsync(db, s.Id, ct), detail: false) });
    }

    static async Task<IResult> Delete(string id, HttpContext http, CinderDb db, VolumeApi volumes, CancellationToken ct)
    {
        var s = await FindAsync(http, db, id, ct);
        http.Authorize("volume:delete_snapshot", s.ProjectId, s.UserId);
        if (s.Status is not ("available" or "error" or "error_deleting") || await db.GroupSnapshotMembers.AnyAsync(m => m.SnapshotId == s.Id, ct))
            throw OpenStackError.BadRequest("Invalid snapshot: Volume Snapshot status must be available or error or error_deleting and must not be part of a group.");
        await BeginDeleteAsync(http, db, volumes, s, ct);
        return Results.Accepted();
    }

    static async Task BeginDeleteAsync(HttpContext http, CinderDb db, VolumeApi volumes, Snapshot s, CancellationToken ct)
    {
        s.Status = "deleting";
        s.Touch(http.Now());
        await db.SaveChangesAsync(ct);
        var volume = await db.Volumes.AsNoTracking().FirstAsync(v => v.Id == s.VolumeId, ct);
        await volumes.CastAsync(volume.Backend, new DeleteSnapshot(s.Id), ct);
    }

    static readonly string[] Statuses = ["creating", "available", "deleting", "error", "error_deleting", "unmanaging", "backing-up", "restoring"];

    static async Task<IResult> Action(string id, HttpContext http, CinderDb db, VolumeApi volumes, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var s = await FindAsync(http, db, id, ct);
        if (body.ContainsKey("os-reset_status"))
        {
            http.Authorize("volume_extension:snapshot_admin_actions:reset_status", s.ProjectId, s.UserId);
            var status = (body["os-reset_status"] as JsonObject)?.OptionalString("status")
                ?? throw CinderApi.Invalid("os-reset_status", body["os-reset_status"], "'status' is a required property");
            if (!Statuses.Contains(status)) throw OpenStackError.BadRequest($"Invalid input received: Must specify a valid status");
            s.Status = status;
            s.Touch(http.Now());
            await db.SaveChangesAsync(ct);
            return Results.Accepted();
        }
        if (body.ContainsKey("os-force_delete"))
        {
            http.Authorize("volume_extension:snapshot_admin_actions:force_delete", s.ProjectId, s.UserId);
            await BeginDeleteAsync(http, db, volumes, s, ct);
            return Results.Accepted();
        }
        if (body["os-update_snapshot_status"] is JsonObject update)
        {
            http.Authorize("snapshot_extension:snapshot_actions:update_snapshot_status", s.ProjectId, s.UserId);
            var status = update.RequiredString("status");
            if (!Statuses.Contains(status)) throw OpenStackError.BadRequest($"Invalid input received: Must specify a valid status");
            s.Status = status;
            if (update.OptionalString("progress") is { } progress) s.Progress = progress;
            s.Touch(http.Now());
            await db.SaveChangesAsync(ct);
            return Results.Accepted();
        }
        throw OpenStackError.BadRequest("There is no such action: " + string.Join(",", body.Select(p => p.Key)));
    }
}
