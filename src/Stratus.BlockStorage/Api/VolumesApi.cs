using Stratus.BlockStorage.Rpc;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/volumes</c>: create (empty, from a volume, a snapshot or an image; 202 in creating, the scheduler and
/// cinder-volume finish it), list and detail with filters, sort and paging, show, update, delete, metadata.
/// </summary>
public static class VolumesApi
{
    public static void MapVolumes(this RouteGroupBuilder project)
    {
        var volumes = project.MapGroup("/volumes");
        volumes.MapPost("", Create);
        volumes.MapGet("", (HttpContext http, CinderDb db, CinderStore store, CinderOptions o, CancellationToken ct) => List(http, db, store, o, detail: false, ct));
        volumes.MapGet("/detail", (HttpContext http, CinderDb db, CinderStore store, CinderOptions o, CancellationToken ct) => List(http, db, store, o, detail: true, ct));
        volumes.MapGet("/summary", Summary).From(12);
        // No id is no volume (Cinder's router finds none), not a method the collection lacks.
        volumes.MapPut("", () => Task.FromException<IResult>(OpenStackError.NotFound("Volume  could not be found.")));
        volumes.MapDelete("", () => Task.FromException<IResult>(OpenStackError.NotFound("Volume  could not be found.")));
        volumes.MapGet("/{id}", Show);
        volumes.MapPut("/{id}", Update);
        volumes.MapDelete("/{id}", Delete);
        volumes.MapMetadata(async (id, http, db, ct) =>
        {
            var v = await FindAsync(http, db, id, ct);
            return new MetadataApi.Owner(v.ProjectId, v.UserId, () => v.Metadata, m => v.Metadata = m, () => v.Touch(http.Now()), () => CheckNotMaintenance(v));
        }, new("volume:get_volume_metadata", "volume:create_volume_metadata", "volume:update_volume_metadata", "volume:delete_volume_metadata"));
    }

    /// <summary>The volume as the caller may see it, or Cinder's 404.</summary>
    public static async Task<VolumeRow> FindAsync(HttpContext http, CinderDb db, string id, CancellationToken ct) =>
        Visible(http, await db.Volumes.FirstOrDefaultAsync(x => x.Id == id, ct), id);

    static async Task<VolumeRow> FindAsync(HttpContext http, CinderStore store, string id, CancellationToken ct) =>
        Visible(http, await store.VolumeAsync(id, ct), id);

    static VolumeRow Visible(HttpContext http, VolumeRow? v, string id) =>
        v is not null && http.CanSee(v.ProjectId) ? v : throw OpenStackError.NotFound($"Volume {id} could not be found.");

    static async Task<IResult> Create(HttpContext http, CinderStore store, CinderOptions options, Quotas quotas, ImageLookup images, SchedulerApi scheduler, CancellationToken ct)
    {
        var caller = http.Caller();
        http.Authorize("volume:create", caller.ProjectId, caller.UserId);
        var body = await http.BodyAsync("volume");
        var size = CinderApi.Size(body);
        var name = body.OptionalString("name", allowEmpty: true) ?? body.OptionalString("display_name", allowEmpty: true);
        var description = body.OptionalString("description", allowEmpty: true) ?? body.OptionalString("display_description", allowEmpty: true);
        if (body.ContainsKey("multiattach") && CinderApi.Bool(body, "multiattach"))
            throw OpenStackError.BadRequest("multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types. " +
                "Contact your administrator to create a multiattach enabled volume type and use it to create multiattach volumes.");
        var metadata = body.ContainsKey("metadata") && body["metadata"] is not null ? CinderApi.Metadata(body) : [];
        var projectId = http.ProjectId();

        var type = body.OptionalString("volume_type") is { } typeRef
            ? await TypesApi.FindByNameOrIdAsync(http, store, typeRef, ct)
            : null;
        Snapshot? snapshot = null;
        VolumeRow? source = null;
        if (body.OptionalString("snapshot_id") is { } snapshotId)
        {
            snapshot = await SnapshotsApi.FindAsync(http, store, snapshotId, ct);
            if (snapshot.Status != "available")
                throw OpenStackError.BadRequest("Invalid snapshot: Originating snapshot status must be one of 'available' values");
            size ??= snapshot.VolumeSize;
            if (size < snapshot.VolumeSize)
                throw OpenStackError.BadRequest($"Invalid input received: Volume size '{size}'GB cannot be smaller than the snapshot size {snapshot.VolumeSize}GB. They must be >= original snapshot size.");
        }
        if (body.OptionalString("source_volid") is { } sourceId)
        {
            source = await FindAsync(http, store, sourceId, ct);
            if (source.Status is not (VolumeStatus.Available or VolumeStatus.InUse))
                throw OpenStackError.BadRequest($"Invalid volume: Unable to create a volume from an originating source volume when its status is not 'available' or 'in-use'.");
            size ??= source.Size;
            if (size < source.Size)
                throw OpenStackError.BadRequest($"Invalid input received: Volume size '{size}'GB cannot be smaller than original volume size {source.Size}GB. They must be >= original volume size.");
        }
        string? imageId = null, imageEndpoint = null;
        if ((body.OptionalString("imageRef") ?? body.OptionalString("image_id")) is { } imageRef)
        {
            http.Authorize("volume:create_from_image", caller.ProjectId, caller.UserId);
            var (endpoint, image) = await images.FindAsync(caller, imageRef, ct);
            imageId = (string?)image["id"];
            imageEndpoint = endpoint;
            if ((string?)image["status"] != "active") throw OpenStackError.BadRequest($"Invalid input received: Image {imageId} is not active.");
            if (size is { } s)
            {
                var imageGb = (long)Math.Ceiling(((long?)image["size"] ?? 0) / (double)(1L << 30));
                if (imageGb > s) throw OpenStackError.BadRequest($"Invalid input received: Size of specified image {imageGb}GB is larger than volume size {s}GB.");
                if ((int?)image["min_disk"] is { } minDisk && minDisk > s)
                    throw OpenStackError.BadRequest($"Invalid input received: Volume size {s}GB cannot be smaller than the image minDisk size {minDisk}GB.");
            }
        }
        if (size is null)
            throw OpenStackError.BadRequest("Invalid input received: Invalid volume size provided for create request: None (size argument must be an integer " +
                "(or string representation of an integer) and greater than zero).");
        if (type is null && (snapshot is not null || source is not null))
        {
            // A copy keeps the type of what it copies.
            var origin = source ?? await store.VolumeAsync(snapshot!.VolumeId, ct);
            type = origin is null ? null : await store.TypeAsync(origin.VolumeTypeId, ct);
        }
        type ??= await TypesApi.DefaultAsync(store, options, ct);
        GroupRow? group = null;
        if (http.Version().AtLeast(13) && body.OptionalString("group_id") is { } groupId)
        {
            // Cinder's group rules: the group is available and holds volumes of this type; the volume is made on its backend.
            group = await GroupsApi.FindAsync(http, store, groupId, ct);
            if (group.Status != "available")
                throw OpenStackError.BadRequest($"Invalid group: Group {group.Id} status must be available, but current status is: {group.Status}.");
            if (!GroupsApi.VolumeTypes(group).Contains(type.Id))
                throw OpenStackError.BadRequest($"Invalid input received: Invalid volume_type provided: {type.Id} (requested type must be supported by this group).");
        }
        var zone = body.OptionalString("availability_zone") ?? (source?.AvailabilityZone ?? options.DefaultAvailabilityZone);
        if (zone != options.StorageAvailabilityZone && zone != options.DefaultAvailabilityZone)
            throw OpenStackError.BadRequest($"Invalid availability zone: {zone}");
        await quotas.CheckAsync(projectId, "volumes", size.Value, type.Id, ct);

        var volume = NewVolume(http, projectId, name, description, size.Value, zone, type.Id, metadata);
        volume.SnapshotId = snapshot?.Id;
        volume.SourceVolId = source?.Id;
        volume.ImageId = imageId;
        volume.Multiattach = MetadataColumn.Read(type.ExtraSpecs).GetValueOrDefault("multiattach") == "<is> True";
        await store.AddVolumeAsync(volume, group?.Id, ct);
        await scheduler.CastAsync(new CreateVolume(volume.Id, imageEndpoint, imageId is null ? null : caller.Token, http.RequestId()), ct);
        return new JsonResponse(new JsonObject { ["volume"] = await VolumeView.DetailAsync(http, store, volume, ct, extensions: false) }, 202);
    }

    /// <summary>The empty volume a restore without a volume makes (Cinder's backup API calls its volume API's create): default type and zone.</summary>
    public static async Task<VolumeRow> CreateForRestoreAsync(HttpContext http, CinderStore store, CinderOptions options, Quotas quotas, SchedulerApi scheduler,
        int size, string name, string description, CancellationToken ct)
    {
        var caller = http.Caller();
        http.Authorize("volume:create", caller.ProjectId, caller.UserId);
        var projectId = http.ProjectId();
        var type = await TypesApi.DefaultAsync(store, options, ct);
        await quotas.CheckAsync(projectId, "volumes", size, type.Id, ct);
        var volume = NewVolume(http, projectId, name, description, size, options.DefaultAvailabilityZone, type.Id, new Dictionary<string, string>());
        await store.AddVolumeAsync(volume, null, ct);
        await scheduler.CastAsync(new CreateVolume(volume.Id), ct);
        return volume;
    }

    /// <summary>A volume record in creating, of the caller, as both creates make it.</summary>
    static VolumeRow NewVolume(HttpContext http, string projectId, string? name, string? description, int size, string zone, string typeId,
        Dictionary<string, string> metadata) => new()
    {
        Id = Guid.NewGuid().ToString(),
        ProjectId = projectId,
        UserId = http.Caller().UserId,
        Name = name,
        Description = description,
        Size = size,
        AvailabilityZone = zone,
        VolumeTypeId = typeId,
        Metadata = MetadataColumn.Write(metadata),
        CreatedAt = http.Now(),
    };

    static readonly string[] SortKeys = ["id", "name", "status", "size", "created_at", "updated_at", "availability_zone", "bootable", "volume_type", "display_name", "project_id", "user_id"];

    static async Task<IResult> List(HttpContext http, CinderDb db, CinderStore store, CinderOptions options, bool detail, CancellationToken ct)
    {
        var caller = http.Caller();
        // GET /volumes/ is a show without an id in Cinder's routes.
        if (!detail && http.Request.Path.Value?.EndsWith('/') == true) throw OpenStackError.NotFound("Volume  could not be found.");
        http.Authorize("volume:get_all", caller.ProjectId, caller.UserId);
        var q = http.Request.Query;
        var paging = Paging.Parse(http, options.OsapiMaxLimit, SortKeys);
        IQueryable<VolumeRow> query = db.Volumes.AsNoTracking();
        if (http.ListedProject() is { } listed) query = query.Where(v => v.ProjectId == listed);
        if ((q["name"].FirstOrDefault() ?? q["display_name"].FirstOrDefault()) is { } name) query = query.Where(v => v.Name == name);
        if (q["status"].FirstOrDefault() is { } status) query = query.Where(v => v.Status == status);
        if (q["availability_zone"].FirstOrDefault() is { } zone) query = query.Where(v => v.AvailabilityZone == zone);
        if (q["bootable"].FirstOrDefault() is { } bootable)
        {
            var b = bootable.ToLowerInvariant() is "1" or "true" or "t" or "yes" or "y" or "on";
            query = query.Where(v => v.Bootable == b);
        }
        var types = await db.VolumeTypes.AsNoTracking().ToDictionaryAsync(t => t.Id, ct);
        if (q["volume_type"].FirstOrDefault() is { } typeRef)
        {
            var typeId = types.Values.FirstOrDefault(t => t.Name == typeRef || t.Id == typeRef)?.Id ?? "";
            query = query.Where(v => v.VolumeTypeId == typeId);
        }
        var rows = await query.ToListAsync(ct);
        if (q["metadata"].FirstOrDefault() is { } metaFilter) rows = [.. rows.Where(v => MetadataMatches(v.Metadata, metaFilter))];
        if (q["glance_metadata"].FirstOrDefault() is { } imageFilter) rows = [.. rows.Where(v => MetadataMatches(v.ImageMetadata, imageFilter))];
        var count = rows.Count;
        var page = paging.Apply(rows, v => v.Id, (v, key) => key switch
        {
            "name" or "display_name" => v.Name,
            "status" => v.Status,
            "size" => v.Size,
            "created_at" => v.CreatedAt,
            "updated_at" => v.UpdatedAt,
            "availability_zone" => v.AvailabilityZone,
            "bootable" => v.Bootable,
            "volume_type" => types.GetValueOrDefault(v.VolumeTypeId)?.Name,
            "project_id" => v.ProjectId,
            "user_id" => v.UserId,
            _ => null,
        }, "volumes");
        var list = new JsonArray();
        foreach (var v in page)
            list.Add(detail ? await VolumeView.DetailAsync(http, store, v, ct) : VolumeView.Summary(http, v));
        var result = new JsonObject { ["volumes"] = list };
        if (paging.NextLinks(http, page.Count, page.LastOrDefault()?.Id, detail ? "volumes/detail" : "volumes") is { } links) result["volumes_links"] = links;
        if (http.Version().AtLeast(45) && q["with_count"].FirstOrDefault() is "true" or "True" or "1") result["count"] = count;
        return new JsonResponse(result);
    }

    /// <summary>Cinder's metadata filter: a JSON or Python-literal object whose pairs must all be present.</summary>
    static bool MetadataMatches(string? column, string filter)
    {
        JsonObject? wanted;
        try
        {
            wanted = JsonNode.Parse(filter.Replace('\'', '"')) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            throw OpenStackError.BadRequest($"Invalid input received: Invalid filter metadata={filter}");
        }
        var have = MetadataColumn.Read(column);
        return wanted is not null && wanted.All(p => have.TryGetValue(p.Key, out var v) && v == p.Value?.ToString());
    }

    static async Task<IResult> Summary(HttpContext http, CinderDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        http.Authorize("volume:get_all", caller.ProjectId, caller.UserId);
        var listed = http.ListedProject();
        var rows = await db.Volumes.AsNoTracking().Where(v => listed == null || v.ProjectId == listed).ToListAsync(ct);
        var summary = new JsonObject { ["total_count"] = rows.Count, ["total_size"] = rows.Sum(v => v.Size) };
        if (http.Version().AtLeast(36))
        {
            var meta = new JsonObject();
            foreach (var group in rows.SelectMany(v => MetadataColumn.Read(v.Metadata)).GroupBy(p => p.Key, StringComparer.Ordinal))
                meta[group.Key] = new JsonArray([.. group.Select(p => p.Value).Distinct().Select(v => (JsonNode?)v)]);
            summary["metadata"] = meta;
        }
        return new JsonResponse(new JsonObject { ["volume-summary"] = summary });
    }

    static async Task<IResult> Show(string id, HttpContext http, CinderStore store, CancellationToken ct)
    {
        var v = await FindAsync(http, store, id, ct);
        http.Authorize("volume:get", v.ProjectId, v.UserId);
        return new JsonResponse(new JsonObject { ["volume"] = await VolumeView.DetailAsync(http, store, v, ct) });
    }

    static async Task<IResult> Update(string id, HttpContext http, CinderDb db, CinderStore store, CancellationToken ct)
    {
        var v = await FindAsync(http, db, id, ct);
        http.Authorize("volume:update", v.ProjectId, v.UserId);
        var body = await http.BodyAsync("volume");
        string[] known = ["name", "description", "display_name", "display_description", "metadata"];
        if (!body.Any(p => known.Contains(p.Key)))
            throw OpenStackError.BadRequest("Invalid input for field/attribute volume. Value: {}. {} does not have enough properties");
        if (body.ContainsKey("name") || body.ContainsKey("display_name"))
            v.Name = body.OptionalString("name", allowEmpty: true) ?? body.OptionalString("display_name", allowEmpty: true);
        if (body.ContainsKey("description") || body.ContainsKey("display_description"))
            v.Description = body.OptionalString("description", allowEmpty: true) ?? body.OptionalString("display_description", allowEmpty: true);
        if (body.ContainsKey("metadata"))
        {
            if (v.Status == VolumeStatus.Maintenance) throw OpenStackError.BadRequest("Invalid volume: The volume metadata cannot be updated when the volume is in maintenance mode.");
            v.Metadata = MetadataColumn.Write(CinderApi.Metadata(body));
        }
        v.Touch(http.Now());
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["volume"] = await VolumeView.DetailAsync(http, store, v, ct, extensions: false) });
    }

    /// <summary>The statuses a volume may be deleted from (Cinder's volume API; force also from the others but deleting and in-use).</summary>
    static readonly string[] Deletable = [VolumeStatus.Available, VolumeStatus.Error, VolumeStatus.ErrorRestoring, VolumeStatus.ErrorExtending, "error_managing"];

    static async Task<IResult> Delete(string id, HttpContext http, CinderStore store, VolumeApi volumes, CancellationToken ct)
    {
        var v = await FindAsync(http, store, id, ct);
        http.Authorize("volume:delete", v.ProjectId, v.UserId);
        var q = http.Request.Query;
        var cascade = q["cascade"].FirstOrDefault() is "true" or "True" or "1";
        var force = http.Version().AtLeast(23) && q["force"].FirstOrDefault() is "true" or "True" or "1";
        if (force) http.Authorize("volume:force_delete", v.ProjectId, v.UserId);
        await BeginDeleteAsync(http, store, volumes, v, force, cascade, ct);
        return Results.Accepted();
    }

    /// <summary>Cinder's conditional update to deleting, then the cast to the backend (none for a volume never scheduled).</summary>
    public static async Task BeginDeleteAsync(HttpContext http, CinderStore store, VolumeApi volumes, VolumeRow v, bool force, bool cascade, CancellationToken ct)
    {
        var attached = v.AttachStatus == "attached" || (await store.AttachedAsync(v.Id, ct)).Count > 0;
        var snapshots = await store.SnapshotsOfAsync(v.Id, ct);
        var inGroup = await store.GroupOfAsync(v.Id, ct) is not null;
        // Forced, any status goes (Cinder checks only that nothing is attached).
        var okStatus = force || Deletable.Contains(v.Status);
        if (!okStatus || attached || inGroup || v.MigrationStatus is not null || (snapshots.Count > 0 && !cascade)
            || (cascade && snapshots.Any(s => s.Status is not ("available" or "error"))))
        {
            var expected = force ? "" : $"status must be {string.Join(" or ", Deletable)} and ";
            throw OpenStackError.BadRequest($"Invalid volume: Volume {expected}must not be migrating, attached, belong to a group, have snapshots, " +
                "awaiting a transfer, or be disassociated from snapshots after volume transfer.");
        }
        // Another request or cinder-volume wrote the volume since it was read: its status may no longer allow it.
        if (!await store.BeginDeleteAsync(v, snapshots, http.Now(), ct))
            throw OpenStackError.BadRequest($"Invalid volume: Volume {v.Id} changed while it was being deleted; try again.");
        if (v.Host is null) return;
        await volumes.CastAsync(v.Backend, new DeleteVolume(v.Id), ct);
    }

    static void CheckNotMaintenance(VolumeRow v)
    {
        if (v.Status == VolumeStatus.Maintenance)
            throw OpenStackError.BadRequest("Invalid volume: Updating volume metadata is not allowed for volumes in maintenance status.");
    }
}
