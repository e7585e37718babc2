using Stratus.BlockStorage.Rpc;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/group_snapshots</c> (3.14): a snapshot of every volume of a group, taken together by the group's backend; list and
/// detail, show, delete (with its snapshots), reset status (3.19, admin).
/// </summary>
public static class GroupSnapshotsApi
{
    public static void MapGroupSnapshots(this RouteGroupBuilder project)
    {
        var snapshots = project.MapGroup("/group_snapshots");
        snapshots.MapPost("", Create).From(14);
        snapshots.MapGet("", (HttpContext http, CinderDb db, CinderOptions o, CancellationToken ct) => List(http, db, o, detail: false, ct)).From(14);
        snapshots.MapGet("/detail", (HttpContext http, CinderDb db, CinderOptions o, CancellationToken ct) => List(http, db, o, detail: true, ct)).From(14);
        snapshots.MapGet("/{id}", Show).From(14);
        snapshots.MapDelete("/{id}", Delete).From(14);
        snapshots.MapPost("/{id}/action", Action).From(19);
    }

    public static async Task<GroupSnapshotRow> FindAsync(HttpContext http, CinderDb db, string id, CancellationToken ct)
    {
        var s = await db.GroupSnapshots.FirstOrDefaultAsync(x => x.Id == id, ct);
        if (s is null || !http.CanSee(s.ProjectId)) throw OpenStackError.NotFound($"GroupSnapshot {id} could not be found.");
        http.Authorize("group:get_group_snapshot", s.ProjectId, s.UserId);
        return s;
    }

    static JsonObject Summary(GroupSnapshotRow s) => new() { ["id"] = s.Id, ["name"] = s.Name, ["group_type_id"] = s.GroupTypeId };

    static JsonObject Detail(HttpContext http, GroupSnapshotRow s)
    {
        var o = new JsonObject
        {
            ["id"] = s.Id,
            ["group_id"] = s.GroupId,
            ["group_type_id"] = s.GroupTypeId,
            ["status"] = s.Status,
            ["created_at"] = CinderApi.Time(s.CreatedAt),
            ["name"] = s.Name,
            ["description"] = s.Description,
        };
        if (http.Version().AtLeast(58) && http.IsAllowed("group:group_snapshot_project_attribute", new Dictionary<string, string?> { ["project_id"] = s.ProjectId }))
            o["project_id"] = s.ProjectId;
        return o;
    }

    static async Task<IResult> Create(HttpContext http, CinderDb db, Quotas quotas, VolumeApi volumes, CancellationToken ct)
    {
        var body = await http.BodyAsync("group_snapshot");
        CinderApi.NoOtherKeys("group_snapshot", body, ["group_id", "name", "description"]);
        var groupId = body.OptionalString("group_id") ?? throw CinderApi.Invalid("group_snapshot", body, "'group_id' is a required property");
        var group = await GroupsApi.FindAsync(http, db, groupId, ct);
        http.Authorize("group:create_group_snapshot", group.ProjectId, group.UserId);
        if (group.Status != "available")
            throw OpenStackError.BadRequest($"Invalid group: Group {group.Id} status must be available, but current status is: {group.Status}.");
        var memberIds = await db.GroupVolumes.AsNoTracking().Where(m => m.GroupId == group.Id).Select(m => m.VolumeId).ToListAsync(ct);
        var members = await db.Volumes.Where(v => memberIds.Contains(v.Id)).ToListAsync(ct);
        if (members.Count == 0) throw OpenStackError.BadRequest($"Invalid group: Group {group.Id} contains no volume.");
        foreach (var v in members)
            if (v.Status is not (VolumeStatus.Available or VolumeStatus.InUse))
                throw OpenStackError.BadRequest($"Invalid volume: Volume {v.Id} status must be available or in-use, but current status is: {v.Status}.");
        var caller = http.Caller();
        foreach (var v in members) await quotas.CheckAsync(group.ProjectId, "snapshots", v.Size, v.VolumeTypeId, ct);
        var now = http.Now();
        var gs = new GroupSnapshotRow
        {
            GroupId = group.Id,
            ProjectId = group.ProjectId,
            UserId = caller.UserId,
            Name = body.OptionalString("name", allowEmpty: true),
            Description = body.OptionalString("description", allowEmpty: true),
            GroupTypeId = group.GroupTypeId,
            CreatedAt = now,
        };
        db.GroupSnapshots.Add(gs);
        foreach (var v in members)
        {
            var s = new Snapshot
            {
                Id = Guid.NewGuid().ToString(),
                VolumeId = v.Id,
                ProjectId = v.ProjectId,
                UserId = caller.UserId,
                Name = $"snapshot-{gs.Id}",
                VolumeSize = v.Size,
                Metadata = MetadataColumn.Write(new Dictionary<string, string>()),
                CreatedAt = now,
            };
            db.Snapshots.Add(s);
            db.GroupSnapshotMembers.Add(new GroupSnapshotMember { SnapshotId = s.Id, GroupSnapshotId = gs.Id });
        }
        await db.SaveChangesAsync(ct);
        await volumes.CastAsync(group.Backend, new CreateGroupSnapshot(gs.Id), ct);
        return new JsonResponse(new JsonObject { ["group_snapshot"] = Summary(gs) }, 202);
    }

    static readonly string[] SortKeys = ["id", "name", "status", "created_at", "group_id", "project_id"];

    static async Task<IResult> List(HttpContext http, CinderDb db, CinderOptions options, bool detail, CancellationToken ct)
    {
        var caller = http.Caller();
        http.Authorize("group:get_all_group_snapshots", caller.ProjectId, caller.UserId);
        var q = http.Request.Query;
        var paging = Paging.Parse(http, options.OsapiMaxLimit, SortKeys);
        IQueryable<GroupSnapshotRow> query = db.GroupSnapshots.AsNoTracking();
        if (http.ListedProject() is { } listed) query = query.Where(s => s.ProjectId == listed);
        if (q["name"].FirstOrDefault() is { } name) query = query.Where(s => s.Name == name);
        if (q["status"].FirstOrDefault() is { } status) query = query.Where(s => s.Status == status);
        if (q["group_id"].FirstOrDefault() is { } groupId) query = query.Where(s => s.GroupId == groupId);
        var rows = await query.ToListAsync(ct);
        var page = paging.Apply(rows, s => s.Id, (s, key) => key switch
        {
            "name" => s.Name,
            "status" => s.Status,
            "created_at" => s.CreatedAt,
            "group_id" => s.GroupId,
            "project_id" => s.ProjectId,
            _ => null,
        }, "group_snapshots");
        var result = new JsonObject { ["group_snapshots"] = new JsonArray([.. page.Select(s => (JsonNode)(detail ? Detail(http, s) : new JsonObject { ["id"] = s.Id, ["name"] = s.Name }))]) };
        if (paging.NextLinks(http, page.Count, page.LastOrDefault()?.Id, detail ? "group_snapshots/detail" : "group_snapshots") is { } links) result["group_snapshot_links"] = links;
        return new JsonResponse(result);
    }

    static async Task<IResult> Show(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var s = await FindAsync(http, db, id, ct);
        return new JsonResponse(new JsonObject { ["group_snapshot"] = Detail(http, s) });
    }

    static async Task<IResult> Delete(string id, HttpContext http, CinderDb db, VolumeApi volumes, CancellationToken ct)
    {
        var gs = await FindAsync(http, db, id, ct);
        http.Authorize("group:delete_group_snapshot", gs.ProjectId, gs.UserId);
        if (gs.Status is not ("available" or "error"))
            throw OpenStackError.BadRequest("Invalid group snapshot: Group snapshot status must be available or error");
        var memberIds = await db.GroupSnapshotMembers.AsNoTracking().Where(m => m.GroupSnapshotId == gs.Id).Select(m => m.SnapshotId).ToListAsync(ct);
        if (await db.Volumes.AnyAsync(v => v.SnapshotId != null && memberIds.Contains(v.SnapshotId) && v.Status == VolumeStatus.Creating, ct))
            throw OpenStackError.BadRequest("Invalid group snapshot: A volume is still being created from it.");
        var now = http.Now();
        foreach (var s in await db.Snapshots.Where(s => memberIds.Contains(s.Id)).ToListAsync(ct))
        {
            s.Status = "deleting";
            s.Touch(now);
        }
        gs.Status = "deleting";
        gs.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        var group = await db.Groups.AsNoTracking().FirstAsync(g => g.Id == gs.GroupId, ct);
        await volumes.CastAsync(group.Backend, new DeleteGroupSnapshot(gs.Id), ct);
        return Results.Accepted();
    }

    static readonly string[] ResetStatuses = ["creating", "available", "deleting", "error", "error_deleting", "deleted"];

    static async Task<IResult> Action(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var gs = await FindAsync(http, db, id, ct);
        if (body["reset_status"] is not JsonObject reset) throw OpenStackError.BadRequest("There is no such action: " + string.Join(",", body.Select(p => p.Key)));
        http.Authorize("group:reset_group_snapshot_status", gs.ProjectId, gs.UserId);
        var status = reset.OptionalString("status") ?? throw CinderApi.Invalid("reset_status", reset, "'status' is a required property");
        if (!ResetStatuses.Contains(status))
            throw OpenStackError.BadRequest($"Invalid input received: Group snapshot status: {status} is invalid, valid statuses are: {string.Join(", ", ResetStatuses)}.");
        gs.Status = status;
        gs.UpdatedAt = http.Now();
        await db.SaveChangesAsync(ct);
        return Results.Accepted();
    }
}
