using System.Text.Json;
using Stratus.BlockStorage.Rpc;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/groups</c> (3.13): generic volume groups of a group type and volume types. Create (placed by cinder-scheduler,
/// made by the backend's cinder-volume), from a group snapshot or another group (3.14), list and detail, show, update
/// (name, description, add and remove volumes), delete with <c>delete-volumes</c>, reset status (3.20, admin).
/// </summary>
public static class GroupsApi
{
    public static void MapGroups(this RouteGroupBuilder project)
    {
        var groups = project.MapGroup("/groups");
        groups.MapPost("", Create).From(13);
        groups.MapGet("", (HttpContext http, CinderDb db, CinderOptions o, CancellationToken ct) => List(http, db, o, detail: false, ct)).From(13);
        groups.MapGet("/detail", (HttpContext http, CinderDb db, CinderOptions o, CancellationToken ct) => List(http, db, o, detail: true, ct)).From(13);
        groups.MapPost("/action", CreateFromSource).From(14);
        groups.MapGet("/{id}", Show).From(13);
        groups.MapPut("/{id}", Update).From(13);
        groups.MapPost("/{id}/action", Action).From(13);
    }

    public static async Task<GroupRow> FindAsync(HttpContext http, CinderDb db, string id, CancellationToken ct) =>
        Visible(http, await db.Groups.FirstOrDefaultAsync(x => x.Id == id, ct), id);

    public static async Task<GroupRow> FindAsync(HttpContext http, CinderStore store, string id, CancellationToken ct) =>
        Visible(http, await store.GroupAsync(id, ct), id);

    static GroupRow Visible(HttpContext http, GroupRow? g, string id)
    {
        if (g is null || !http.CanSee(g.ProjectId)) throw OpenStackError.NotFound($"Group {id} could not be found.");
        http.Authorize("group:get", g.ProjectId, g.UserId);
        return g;
    }

    public static List<string> VolumeTypes(GroupRow g) => JsonSerializer.Deserialize<List<string>>(g.VolumeTypeIds) ?? [];

    static async Task<JsonObject> DetailAsync(HttpContext http, CinderDb db, GroupRow g, CancellationToken ct)
    {
        var o = new JsonObject
        {
            ["id"] = g.Id,
            ["status"] = g.Status,
            ["availability_zone"] = g.AvailabilityZone,
            ["created_at"] = CinderApi.Time(g.CreatedAt),
            ["name"] = g.Name,
            ["description"] = g.Description,
            ["group_type"] = g.GroupTypeId,
            ["volume_types"] = new JsonArray([.. VolumeTypes(g).Select(t => (JsonNode?)t)]),
        };
        var v = http.Version();
        if (v.AtLeast(14))
        {
            o["group_snapshot_id"] = g.GroupSnapshotId;
            o["source_group_id"] = g.SourceGroupId;
        }
        if (v.AtLeast(25) && http.Request.Query["list_volume"].FirstOrDefault() is "true" or "True" or "1")
            o["volumes"] = new JsonArray([.. (await db.GroupVolumes.AsNoTracking().Where(m => m.GroupId == g.Id).Select(m => m.VolumeId).ToListAsync(ct)).Select(id => (JsonNode?)id)]);
        if (v.AtLeast(38)) o["replication_status"] = "disabled";
        if (v.AtLeast(58) && http.IsAllowed("group:group_project_attribute", new Dictionary<string, string?> { ["project_id"] = g.ProjectId }))
            o["project_id"] = g.ProjectId;
        return o;
    }

    static JsonObject Summary(GroupRow g) => new() { ["id"] = g.Id, ["name"] = g.Name };

    static async Task<IResult> Create(HttpContext http, CinderDb db, CinderStore store, CinderOptions options, Quotas quotas, SchedulerApi scheduler, CancellationToken ct)
    {
        var caller = http.Caller();
        http.Authorize("group:create", caller.ProjectId, caller.UserId);
        var body = await http.BodyAsync("group");
        CinderApi.NoOtherKeys("group", body, ["name", "description", "group_type", "volume_types", "availability_zone"]);
        var typeRef = body.OptionalString("group_type") ?? throw CinderApi.Invalid("group", body, "'group_type' is a required property");
        if (body["volume_types"] is not JsonArray { Count: > 0 } typeRefs)
            throw CinderApi.Invalid("volume_types", body["volume_types"], body["volume_types"] is null ? "'volume_types' is a required property" : "[] is too short");
        var groupType = await db.GroupTypes.FirstOrDefaultAsync(t => t.Id == typeRef || t.Name == typeRef, ct);
        if (groupType is null || !(groupType.IsPublic || http.IsAdmin())) throw OpenStackError.NotFound($"Group type {typeRef} could not be found.");
        var volumeTypes = new List<string>();
        foreach (var node in typeRefs)
        {
            var name = node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : throw CinderApi.Invalid("volume_types", node, "is not of type 'string'");
            volumeTypes.Add((await TypesApi.FindByNameOrIdAsync(http, store, name, ct)).Id);
        }
        var zone = body.OptionalString("availability_zone") ?? options.DefaultAvailabilityZone;
        if (zone != options.StorageAvailabilityZone && zone != options.DefaultAvailabilityZone)
            throw OpenStackError.BadRequest($"Invalid availability zone: {zone}");
        var projectId = http.ProjectId();
        await quotas.CheckGroupAsync(projectId, ct);
        var g = new GroupRow
        {
            ProjectId = projectId,
            UserId = caller.UserId,
            Name = body.OptionalString("name", allowEmpty: true),
            Description = body.OptionalString("description", allowEmpty: true),
            GroupTypeId = groupType.Id,
            VolumeTypeIds = JsonSerializer.Serialize(volumeTypes),
            AvailabilityZone = zone,
            CreatedAt = http.Now(),
        };
        db.Groups.Add(g);
        await db.SaveChangesAsync(ct);
        await scheduler.CastAsync(new CreateGroup(g.Id), ct);
        return new JsonResponse(new JsonObject { ["group"] = Summary(g) }, 202);
    }

    /// <summary>A new group with a copy of every volume of a group snapshot (their snapshots) or of a group (its volumes), made where the source is.</summary>
    static async Task<IResult> CreateFromSource(HttpContext http, CinderDb db, Quotas quotas, VolumeApi volumes, CancellationToken ct)
    {
        var caller = http.Caller();
        http.Authorize("group:create", caller.ProjectId, caller.UserId);
        var body = await http.BodyAsync("create-from-src");
        CinderApi.NoOtherKeys("create-from-src", body, ["name", "description", "group_snapshot_id", "source_group_id"]);
        var snapshotId = body.OptionalString("group_snapshot_id");
        var sourceId = body.OptionalString("source_group_id");
        if ((snapshotId is null) == (sourceId is null))
            throw OpenStackError.BadRequest("Invalid input received: Either 'group_snapshot_id' or 'source_group_id' must be provided to create group from source, but not both.");
        GroupRow source;
        List<(string VolumeId, string? SnapshotId)> copies;
        if (snapshotId is not null)
        {
            var snapshot = await GroupSnapshotsApi.FindAsync(http, db, snapshotId, ct);
            if (snapshot.Status != "available")
                throw OpenStackError.BadRequest($"Invalid group snapshot: Group snapshot {snapshot.Id} status must be available.");
            source = await db.Groups.FirstAsync(g => g.Id == snapshot.GroupId, ct);
            var members = await db.GroupSnapshotMembers.AsNoTracking().Where(m => m.GroupSnapshotId == snapshot.Id).Select(m => m.SnapshotId).ToListAsync(ct);
            copies = [.. (await db.Snapshots.AsNoTracking().Where(s => members.Contains(s.Id)).ToListAsync(ct)).Select(s => (s.VolumeId, (string?)s.Id))];
        }
        else
        {
            source = await FindAsync(http, db, sourceId!, ct);
            if (source.Status != "available") throw OpenStackError.BadRequest($"Invalid group: Source group {source.Id} status must be available.");
            copies = [.. (await db.GroupVolumes.AsNoTracking().Where(m => m.GroupId == source.Id).Select(m => m.VolumeId).ToListAsync(ct)).Select(v => (v, (string?)null))];
        }
        var projectId = http.ProjectId();
        await quotas.CheckGroupAsync(projectId, ct);
        var now = http.Now();
        var g = new GroupRow
        {
            ProjectId = projectId,
            UserId = caller.UserId,
            Name = body.OptionalString("name", allowEmpty: true),
            Description = body.OptionalString("description", allowEmpty: true),
            GroupTypeId = source.GroupTypeId,
            VolumeTypeIds = source.VolumeTypeIds,
            AvailabilityZone = source.AvailabilityZone,
            Host = source.Host,
            GroupSnapshotId = snapshotId,
            SourceGroupId = sourceId,
            CreatedAt = now,
        };
        db.Groups.Add(g);
        foreach (var (volumeId, fromSnapshot) in copies)
        {
            var original = await db.Volumes.AsNoTracking().FirstAsync(v => v.Id == volumeId, ct);
            await quotas.CheckAsync(projectId, "volumes", original.Size, original.VolumeTypeId, ct);
            var copy = new VolumeRow
            {
                Id = Guid.NewGuid().ToString(),
                ProjectId = projectId,
                UserId = caller.UserId,
                Size = original.Size,
                AvailabilityZone = original.AvailabilityZone,
                VolumeTypeId = original.VolumeTypeId,
                SnapshotId = fromSnapshot,
                SourceVolId = fromSnapshot is null ? original.Id : null,
                Host = original.Host,
                Metadata = MetadataColumn.Write(new Dictionary<string, string>()),
                CreatedAt = now,
            };
            db.Volumes.Add(copy);
            db.GroupVolumes.Add(new GroupVolume { VolumeId = copy.Id, GroupId = g.Id });
        }
        await db.SaveChangesAsync(ct);
        await volumes.CastAsync(g.Backend, new CreateGroup(g.Id), ct);
        return new JsonResponse(new JsonObject { ["group"] = Summary(g) }, 202);
    }

    static readonly string[] SortKeys = ["id", "name", "status", "created_at", "availability_zone", "group_type", "project_id"];

    static async Task<IResult> List(HttpContext http, CinderDb db, CinderOptions options, bool detail, CancellationToken ct)
    {
        var caller = http.Caller();
        http.Authorize("group:get_all", caller.ProjectId, caller.UserId);
        var q = http.Request.Query;
        var paging = Paging.Parse(http, options.OsapiMaxLimit, SortKeys);
        IQueryable<GroupRow> query = db.Groups.AsNoTracking();
        if (http.ListedProject() is { } listed) query = query.Where(g => g.ProjectId == listed);
        if (q["name"].FirstOrDefault() is { } name) query = query.Where(g => g.Name == name);
        if (q["status"].FirstOrDefault() is { } status) query = query.Where(g => g.Status == status);
        var rows = await query.ToListAsync(ct);
        var page = paging.Apply(rows, g => g.Id, (g, key) => key switch
        {
            "name" => g.Name,
            "status" => g.Status,
            "created_at" => g.CreatedAt,
            "availability_zone" => g.AvailabilityZone,
            "group_type" => g.GroupTypeId,
            "project_id" => g.ProjectId,
            _ => null,
        }, "groups");
        var list = new JsonArray();
        foreach (var g in page) list.Add(detail ? await DetailAsync(http, db, g, ct) : Summary(g));
        var result = new JsonObject { ["groups"] = list };
        if (paging.NextLinks(http, page.Count, page.LastOrDefault()?.Id, detail ? "groups/detail" : "groups") is { } links) result["group_links"] = links;
        return new JsonResponse(result);
    }

    static async Task<IResult> Show(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var g = await FindAsync(http, db, id, ct);
        return new JsonResponse(new JsonObject { ["group"] = await DetailAsync(http, db, g, ct) });
    }

    static List<string> Ids(JsonObject body, string field) =>
        body.OptionalString(field, maxLength: int.MaxValue, allowEmpty: true)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList() ?? [];

    /// <summary>Name, description and membership; a generic group's update is the database's alone, as Cinder's manager does it.</summary>
    static async Task<IResult> Update(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var body = await http.BodyAsync("group");
        CinderApi.NoOtherKeys("group", body, ["name", "description", "add_volumes", "remove_volumes"]);
        var g = await FindAsync(http, db, id, ct);
        http.Authorize("group:update", g.ProjectId, g.UserId);
        var add = Ids(body, "add_volumes");
        var remove = Ids(body, "remove_volumes");
        if (!body.ContainsKey("name") && !body.ContainsKey("description") && add.Count == 0 && remove.Count == 0)
            throw OpenStackError.BadRequest("Invalid input received: Name, description, add_volumes, and remove_volumes can not be all empty in the request body.");
        if (g.Status != "available" && (add.Count > 0 || remove.Count > 0))
            throw OpenStackError.BadRequest($"Invalid group: Group {g.Id} status must be available, but current status is: {g.Status}.");
        var types = VolumeTypes(g);
        foreach (var volumeId in add)
        {
            var v = await db.Volumes.FirstOrDefaultAsync(x => x.Id == volumeId && x.ProjectId == g.ProjectId, ct)
                ?? throw OpenStackError.BadRequest($"Invalid volume: Cannot add volume {volumeId} to group {g.Id} because volume cannot be found.");
            if (await db.GroupVolumes.AnyAsync(m => m.VolumeId == v.Id, ct))
                throw OpenStackError.BadRequest($"Invalid volume: Cannot add volume {v.Id} to group {g.Id} because it is already in a group.");
            if (!types.Contains(v.VolumeTypeId))
                throw OpenStackError.BadRequest($"Invalid volume: Cannot add volume {v.Id} to group {g.Id} because volume type {v.VolumeTypeId} is not supported by the group.");
            if (v.Status is not (VolumeStatus.Available or VolumeStatus.InUse))
                throw OpenStackError.BadRequest($"Invalid volume: Cannot add volume {v.Id} to group {g.Id} because volume is in an invalid state: {v.Status}. Valid states are: ('available', 'in-use').");
            if (v.Backend != g.Backend)
                throw OpenStackError.BadRequest($"Invalid volume: Cannot add volume {v.Id} to group {g.Id} because it is on another backend.");
            db.GroupVolumes.Add(new GroupVolume { VolumeId = v.Id, GroupId = g.Id });
        }
        foreach (var volumeId in remove)
        {
            var member = await db.GroupVolumes.FirstOrDefaultAsync(m => m.VolumeId == volumeId && m.GroupId == g.Id, ct)
                ?? throw OpenStackError.BadRequest($"Invalid volume: Cannot remove volume {volumeId} from group {g.Id} because it is not in the group.");
            db.GroupVolumes.Remove(member);
        }
        if (body.ContainsKey("name")) g.Name = body.OptionalString("name", allowEmpty: true);
        if (body.ContainsKey("description")) g.Description = body.OptionalString("description", allowEmpty: true);
        g.Touch(http.Now());
        await db.SaveChangesAsync(ct);
        return Results.Accepted();
    }

    static readonly string[] ResetStatuses = ["creating", "available", "updating", "deleting", "error", "error_deleting", "deleted"];

    static async Task<IResult> Action(string id, HttpContext http, CinderDb db, VolumeApi volumes, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var g = await FindAsync(http, db, id, ct);
        if (body["delete"] is JsonObject delete)
        {
            http.Authorize("group:delete", g.ProjectId, g.UserId);
            var deleteVolumes = delete["delete-volumes"] is not null && CinderApi.Bool(delete, "delete-volumes");
            await BeginDeleteAsync(http, db, volumes, g, deleteVolumes, ct);
            return Results.Accepted();
        }
        if (body["reset_status"] is JsonObject reset && http.Version().AtLeast(20))
        {
            http.Authorize("group:reset_status", g.ProjectId, g.UserId);
            var status = reset.OptionalString("status") ?? throw CinderApi.Invalid("reset_status", reset, "'status' is a required property");
            if (!ResetStatuses.Contains(status)) throw OpenStackError.BadRequest($"Invalid input received: Group status: {status} is invalid, valid statuses are: {string.Join(", ", ResetStatuses)}.");
            g.Status = status;
            g.Touch(http.Now());
            await db.SaveChangesAsync(ct);
            return Results.Accepted();
        }
        throw OpenStackError.BadRequest("There is no such action: " + string.Join(",", body.Select(p => p.Key)));
    }

    static async Task BeginDeleteAsync(HttpContext http, CinderDb db, VolumeApi volumes, GroupRow g, bool deleteVolumes, CancellationToken ct)
    {
        if (g.Status is not ("available" or "error" or "error_deleting" or "creating" or "deleting") || (g.Status is "creating" && g.Host is not null))
            throw OpenStackError.BadRequest($"Invalid group: Group status must be available or error, but current status is: {g.Status}");
        var memberIds = await db.GroupVolumes.Where(m => m.GroupId == g.Id).Select(m => m.VolumeId).ToListAsync(ct);
        if (memberIds.Count > 0 && !deleteVolumes)
            throw OpenStackError.BadRequest($"Invalid group: Group {g.Id} still contains volumes. The delete-volumes flag is required to delete it.");
        if (await db.GroupSnapshots.AnyAsync(s => s.GroupId == g.Id, ct))
            throw OpenStackError.BadRequest($"Invalid group: Group {g.Id} has group snapshots.");
        var members = await db.Volumes.Where(v => memberIds.Contains(v.Id)).ToListAsync(ct);
        var now = http.Now();
        foreach (var v in members)
        {
            if (v.AttachStatus == "attached" || await db.Attachments.AnyAsync(a => a.VolumeId == v.Id && a.AttachStatus == "attached", ct))
                throw OpenStackError.BadRequest($"Invalid volume: Volume {v.Id} in group {g.Id} is attached. Need to detach first.");
            if (await db.Snapshots.AnyAsync(s => s.VolumeId == v.Id, ct))
                throw OpenStackError.BadRequest($"Invalid volume: Volume {v.Id} in group {g.Id} still has dependent snapshots.");
            v.Status = VolumeStatus.Deleting;
            v.Touch(now);
        }
        g.Status = "deleting";
        g.Touch(now);
        if (g.Host is null)
        {
            // Never placed: nothing exists on a backend.
            db.GroupVolumes.RemoveRange(db.GroupVolumes.Where(m => m.GroupId == g.Id));
            db.Volumes.RemoveRange(members.Where(v => v.Host is null));
            db.Groups.Remove(g);
        }
        await db.SaveChangesAsync(ct);
        if (g.Host is not null) await volumes.CastAsync(g.Backend, new DeleteGroup(g.Id), ct);
    }
}
