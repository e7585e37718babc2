using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Stratus.BlockStorage.Rpc;
using Stratus.Core.Services;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/backups</c>: copies of a volume's bytes that cinder-backup keeps off the volume's backend. Create (of a volume or
/// one of its snapshots, <c>force</c> for an in-use volume, incremental on the latest backup), list and detail, show,
/// update (3.9), delete, restore to a new or an existing volume, export and import of the record (admin), and the admin
/// actions. Cinder's status machine: the volume is backing-up (or the snapshot) while the backup is creating, and
/// restoring-backup while the backup is restoring.
/// </summary>
public static class BackupsApi
{
    public static void MapBackups(this RouteGroupBuilder project)
    {
        var backups = project.MapGroup("/backups");
        backups.MapPost("", Create);
        backups.MapGet("", (HttpContext http, CinderDb db, CinderOptions o, CancellationToken ct) => List(http, db, o, detail: false, ct));
        backups.MapGet("/detail", (HttpContext http, CinderDb db, CinderOptions o, CancellationToken ct) => List(http, db, o, detail: true, ct));
        backups.MapPost("/import_record", Import);
        backups.MapGet("/{id}", Show);
        backups.MapPut("/{id}", Update).From(9);
        backups.MapDelete("/{id}", Delete);
        backups.MapPost("/{id}/restore", Restore);
        backups.MapGet("/{id}/export_record", Export);
        backups.MapPost("/{id}/action", Action);
    }

    /// <summary>Volumes made by Cinder's import belong to no volume: this is the id it records.</summary>
    const string ImportVolumeId = "00000000-0000-0000-0000-000000000000";

    static async Task<BackupRow> FindAsync(HttpContext http, CinderDb db, string id, CancellationToken ct)
    {
        var b = await db.Backups.FirstOrDefaultAsync(x => x.Id == id, ct);
        if (b is null || !http.CanSee(b.ProjectId)) throw OpenStackError.NotFound($"Backup {id} could not be found.");
        http.Authorize("backup:get", b.ProjectId, b.UserId);
        return b;
    }

    static JsonObject Summary(HttpContext http, BackupRow b) => new()
    {
        ["id"] = b.Id,
        ["name"] = b.Name,
        ["links"] = CinderApi.Links(http, "backups", b.Id),
    };

    static async Task<JsonObject> DetailAsync(HttpContext http, CinderDb db, BackupRow b, CancellationToken ct)
    {
        var o = new JsonObject
        {
            ["id"] = b.Id,
            ["status"] = b.Status,
            ["size"] = b.Size,
            ["object_count"] = b.ObjectCount,
            ["availability_zone"] = b.AvailabilityZone,
            ["container"] = b.Container,
            ["created_at"] = CinderApi.Time(b.CreatedAt),
            ["updated_at"] = CinderApi.Time(b.UpdatedAt),
            ["name"] = b.Name,
            ["description"] = b.Description,
            ["fail_reason"] = b.FailReason,
            ["volume_id"] = b.VolumeId,
            ["links"] = CinderApi.Links(http, "backups", b.Id),
            ["is_incremental"] = b.IsIncremental,
            ["has_dependent_backups"] = await db.Backups.AnyAsync(x => x.ParentId == b.Id, ct),
            ["snapshot_id"] = b.SnapshotId,
            ["data_timestamp"] = CinderApi.Time(b.DataTimestamp),
        };
        var v = http.Version();
        if (v.AtLeast(43)) o["metadata"] = MetadataColumn.View(b.Metadata);
        var attributes = http.IsAllowed("backup:backup_project_attribute", new Dictionary<string, string?> { ["project_id"] = b.ProjectId });
        if (v.AtLeast(18) && attributes) o["os-backup-project-attr:project_id"] = b.ProjectId;
        if (v.AtLeast(56) && attributes) o["user_id"] = b.UserId;
        return o;
    }

    /// <summary>An up, enabled cinder-backup in the zone (Cinder's <c>_get_available_backup_service_host</c>), or its 503.</summary>
    static async Task<string> BackupHostAsync(HttpContext http, CinderDb db, string? zone, CancellationToken ct)
    {
        var group = http.RequestServices.GetRequiredService<ServiceGroup>();
        var services = await db.Services.AsNoTracking().Where(s => s.Binary == CinderOptions.Backup && !s.Disabled).ToListAsync(ct);
        var up = services.Where(s => (zone is null || s.AvailabilityZone == zone) && group.IsUp(s)).Select(s => s.Host).ToList();
        return up.Count > 0 ? up[Random.Shared.Next(up.Count)]
            : throw new OpenStackError(503, "Service Unavailable", "Service cinder-backup could not be found.");
    }

    static readonly string[] CreateKeys = ["volume_id", "container", "description", "incremental", "force", "name", "snapshot_id"];

    static async Task<IResult> Create(HttpContext http, CinderDb db, Quotas quotas, BackupApi backups, CancellationToken ct)
    {
        var body = await http.BodyAsync("backup");
        var version = http.Version();
        IEnumerable<string> allowed = CreateKeys;
        if (version.AtLeast(43)) allowed = allowed.Append("metadata");
        if (version.AtLeast(51)) allowed = allowed.Append("availability_zone");
        CinderApi.NoOtherKeys("backup", body, allowed);
        var volumeId = Uuid(body, "volume_id") ?? throw CinderApi.Invalid("backup", body, "'volume_id' is a required property");
        var container = Container(body);
        var name = body.OptionalString("name", allowEmpty: true);
        var description = body.OptionalString("description", allowEmpty: true);
        var incremental = body["incremental"] is not null && CinderApi.Bool(body, "incremental");
        var force = body["force"] is not null && CinderApi.Bool(body, "force");
        var snapshotId = Uuid(body, "snapshot_id");
        var metadata = body["metadata"] is not null ? CinderApi.Metadata(body) : [];
        var zone = body.OptionalString("availability_zone", allowEmpty: true);

        var volume = await VolumesApi.FindAsync(http, db, volumeId, ct);
        http.Authorize("backup:create", volume.ProjectId, volume.UserId);
        Snapshot? snapshot = null;
        if (snapshotId is not null)
        {
            snapshot = await SnapshotsApi.FindAsync(http, db, snapshotId, ct);
            if (snapshot.VolumeId != volume.Id)
                throw OpenStackError.BadRequest($"Invalid volume: Volume {volume.Id} does not match with snapshot.volume_id {snapshot.VolumeId}.");
            if (snapshot.Status != "available")
                throw OpenStackError.BadRequest($"Invalid snapshot: Snapshot to be backed up must be available, but the current status is \"{snapshot.Status}\".");
        }
        else if (volume.Status is not (VolumeStatus.Available or VolumeStatus.InUse))
            throw OpenStackError.BadRequest($"Invalid volume: Volume to be backed up must be available or in-use, but the current status is \"{volume.Status}\".");
        else if (volume.Status == VolumeStatus.InUse && !force)
            throw OpenStackError.BadRequest("Invalid volume: Backing up an in-use volume must use the force flag.");
        var projectId = http.ProjectId();
        await quotas.CheckBackupAsync(projectId, volume.Size, ct);

        BackupRow? parent = null;
        if (incremental)
        {
            // The latest backup of the volume (for a snapshot, the latest taken before it) is the parent.
            var candidates = await db.Backups.AsNoTracking().Where(b => b.VolumeId == volume.Id && b.ProjectId == projectId).ToListAsync(ct);
            if (candidates.Count == 0) throw OpenStackError.BadRequest("Invalid backup: No backups available to do an incremental backup.");
            parent = candidates.MaxBy(b => snapshot is null || b.DataTimestamp < snapshot.CreatedAt ? b.DataTimestamp : DateTime.MinValue);
            if (parent!.Status != BackupStatus.Available)
                throw OpenStackError.BadRequest("Invalid backup: The parent backup must be available for incremental backup.");
        }
        var host = await BackupHostAsync(http, db, zone, ct);
        var now = http.Now();
        var caller = http.Caller();
        var backup = new BackupRow
        {
            Id = Guid.NewGuid().ToString(),
            ProjectId = projectId,
            UserId = caller.UserId,
            VolumeId = volume.Id,
            SnapshotId = snapshot?.Id,
            Host = host,
            AvailabilityZone = zone ?? volume.AvailabilityZone,
            Name = name,
            Description = description,
            Container = container,
            Size = volume.Size,
            ParentId = parent?.Id,
            Metadata = MetadataColumn.Write(metadata),
            DataTimestamp = snapshot?.CreatedAt ?? now,
            CreatedAt = now,
        };
        if (snapshot is not null)
        {
            snapshot.Status = "backing-up";
            snapshot.Touch(now);
        }
        else
        {
            backup.VolumePreviousStatus = volume.Status;
            volume.Status = "backing-up";
            volume.Touch(now);
        }
        db.Backups.Add(backup);
        await db.SaveChangesAsync(ct);
        await backups.CastAsync(host, new CreateBackup(backup.Id), ct);
        return new JsonResponse(new JsonObject { ["backup"] = Summary(http, backup) }, 202);
    }

    static readonly string[] SortKeys = ["id", "name", "status", "size", "created_at", "updated_at", "volume_id", "display_name", "project_id", "availability_zone", "container"];

    static async Task<IResult> List(HttpContext http, CinderDb db, CinderOptions options, bool detail, CancellationToken ct)
    {
        var caller = http.Caller();
        http.Authorize("backup:get_all", caller.ProjectId, caller.UserId);
        var q = http.Request.Query;
        var paging = Paging.Parse(http, options.OsapiMaxLimit, SortKeys);
        IQueryable<BackupRow> query = db.Backups.AsNoTracking();
        if (http.ListedProject() is { } listed) query = query.Where(b => b.ProjectId == listed);
        if (q["name"].FirstOrDefault() is { } name) query = query.Where(b => b.Name == name);
        if (q["status"].FirstOrDefault() is { } status) query = query.Where(b => b.Status == status);
        if (q["volume_id"].FirstOrDefault() is { } volumeId) query = query.Where(b => b.VolumeId == volumeId);
        var rows = await query.ToListAsync(ct);
        var page = paging.Apply(rows, b => b.Id, (b, key) => key switch
        {
            "name" or "display_name" => b.Name,
            "status" => b.Status,
            "size" => b.Size,
            "created_at" => b.CreatedAt,
            "updated_at" => b.UpdatedAt,
            "volume_id" => b.VolumeId,
            "project_id" => b.ProjectId,
            "availability_zone" => b.AvailabilityZone,
            "container" => b.Container,
            _ => null,
        }, "backups");
        var list = new JsonArray();
        foreach (var b in page) list.Add(detail ? await DetailAsync(http, db, b, ct) : Summary(http, b));
        var result = new JsonObject { ["backups"] = list };
        if (paging.NextLinks(http, page.Count, page.LastOrDefault()?.Id, detail ? "backups/detail" : "backups") is { } links) result["backups_links"] = links;
        if (http.Version().AtLeast(45) && q["with_count"].FirstOrDefault() is "true" or "True" or "1") result["count"] = rows.Count;
        return new JsonResponse(result);
    }

    static async Task<IResult> Show(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var b = await FindAsync(http, db, id, ct);
        return new JsonResponse(new JsonObject { ["backup"] = await DetailAsync(http, db, b, ct) });
    }

    static async Task<IResult> Update(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var body = await http.BodyAsync("backup");
        CinderApi.NoOtherKeys("backup", body, http.Version().AtLeast(43) ? ["name", "description", "metadata"] : ["name", "description"]);
        var b = await FindAsync(http, db, id, ct);
        http.Authorize("backup:update", b.ProjectId, b.UserId);
        if (body.ContainsKey("name")) b.Name = body.OptionalString("name", allowEmpty: true);
        if (body.ContainsKey("description")) b.Description = body.OptionalString("description", allowEmpty: true);
        if (body.ContainsKey("metadata")) b.Metadata = MetadataColumn.Write(CinderApi.Metadata(body));
        b.Touch(http.Now());
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["backup"] = Summary(http, b) });
    }

    static async Task<IResult> Delete(string id, HttpContext http, CinderDb db, BackupApi backups, CancellationToken ct)
    {
        var b = await FindAsync(http, db, id, ct);
        http.Authorize("backup:delete", b.ProjectId, b.UserId);
        if (b.Status is not (BackupStatus.Available or BackupStatus.Error))
            throw OpenStackError.BadRequest("Invalid backup: Backup status must be available or error");
        await BeginDeleteAsync(http, db, backups, b, ct);
        return Results.Accepted();
    }

    static async Task BeginDeleteAsync(HttpContext http, CinderDb db, BackupApi backups, BackupRow b, CancellationToken ct)
    {
        if (await db.Backups.AnyAsync(x => x.ParentId == b.Id, ct))
            throw OpenStackError.BadRequest("Invalid backup: Incremental backups exist for this backup.");
        b.Host = await BackupHostAsync(http, db, null, ct);
        b.Status = BackupStatus.Deleting;
        b.Touch(http.Now());
        await db.SaveChangesAsync(ct);
        await backups.CastAsync(b.Host, new DeleteBackup(b.Id), ct);
    }

    static async Task<IResult> Restore(string id, HttpContext http, CinderDb db, CinderStore store, CinderOptions options, Quotas quotas, SchedulerApi scheduler,
        BackupApi backups, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (!body.ContainsKey("restore")) throw CinderApi.Invalid("restore", null, "'restore' is a required property");
        var restore = body["restore"] switch
        {
            null => [],
            JsonObject o => o,
            var other => throw CinderApi.Invalid("restore", other, $"{other.ToJsonString()} is not of type 'object', 'null'"),
        };
        CinderApi.NoOtherKeys("restore", restore, ["name", "volume_id"]);
        var volumeId = Uuid(restore, "volume_id");
        var name = restore.OptionalString("name", allowEmpty: true);
        var b = await FindAsync(http, db, id, ct);
        http.Authorize("backup:restore", b.ProjectId, b.UserId);
        if (b.Status != BackupStatus.Available) throw OpenStackError.BadRequest("Invalid backup: Backup status must be available");
        VolumeRow volume;
        if (volumeId is null)
        {
            // As Cinder: a new volume of the backup's size, waited for until it is made.
            var created = await VolumesApi.CreateForRestoreAsync(http, store, options, quotas, scheduler, b.Size,
                name ?? $"restore_backup_{b.Id}", "auto-created_from_restore_from_backup", ct);
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (created?.Status == VolumeStatus.Creating && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, ct);
                created = await store.VolumeAsync(created.Id, ct);
            }
            volume = await VolumesApi.FindAsync(http, db, created?.Id ?? "", ct);
            if (volume.Status == VolumeStatus.Error)
                throw OpenStackError.BadRequest($"Invalid volume: Error while creating volume {volume.Id} for restoring backup {b.Id}.");
        }
        else volume = await VolumesApi.FindAsync(http, db, volumeId, ct);
        if (volume.Status != VolumeStatus.Available) throw OpenStackError.BadRequest("Invalid volume: Volume to be restored to must be available");
        if (b.Size > volume.Size)
            throw OpenStackError.BadRequest($"Invalid volume: volume size {volume.Size} is too small to restore backup of size {b.Size}.");
        b.Host = await BackupHostAsync(http, db, null, ct);
        var now = http.Now();
        b.Status = BackupStatus.Restoring;
        b.RestoreVolumeId = volume.Id;
        b.Touch(now);
        volume.Status = "restoring-backup";
        volume.Touch(now);
        await db.SaveChangesAsync(ct);
        await backups.CastAsync(b.Host, new RestoreBackup(b.Id, volume.Id), ct);
        return new JsonResponse(new JsonObject
        {
            ["restore"] = new JsonObject { ["backup_id"] = b.Id, ["volume_id"] = volume.Id, ["volume_name"] = volume.Name },
        }, 202);
    }

    /// <summary>The record as Cinder encodes it (base64 of the backup's fields as JSON), for a database that lost it.</summary>
    static async Task<IResult> Export(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var b = await FindAsync(http, db, id, ct);
        http.Authorize("backup:export-import", b.ProjectId, b.UserId);
        if (b.Status != BackupStatus.Available) throw OpenStackError.BadRequest($"Invalid backup: Backup status must be available and not {b.Status}.");
        var record = new JsonObject
        {
            ["id"] = b.Id,
            ["size"] = b.Size,
            ["volume_id"] = b.VolumeId,
            ["snapshot_id"] = b.SnapshotId,
            ["display_name"] = b.Name,
            ["display_description"] = b.Description,
            ["container"] = b.Container,
            ["availability_zone"] = b.AvailabilityZone,
            ["service"] = b.Service,
            ["service_metadata"] = b.ServiceMetadata,
            ["object_count"] = b.ObjectCount,
            ["parent_id"] = b.ParentId,
            ["data_timestamp"] = CinderApi.Time(b.DataTimestamp),
            ["metadata"] = MetadataColumn.View(b.Metadata),
        };
        return new JsonResponse(new JsonObject
        {
            ["backup-record"] = new JsonObject
            {
                ["backup_service"] = b.Service ?? CinderOptions.PosixBackupDriver,
                ["backup_url"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(record.ToJsonString())),
            },
        });
    }

    static async Task<IResult> Import(HttpContext http, CinderDb db, Quotas quotas, BackupApi backups, CancellationToken ct)
    {
        var body = await http.BodyAsync("backup-record");
        CinderApi.NoOtherKeys("backup-record", body, ["backup_service", "backup_url"]);
        var service = body.OptionalString("backup_service") ?? throw CinderApi.Invalid("backup-record", body, "'backup_service' is a required property");
        var url = body.OptionalString("backup_url", maxLength: int.MaxValue) ?? throw CinderApi.Invalid("backup-record", body, "'backup_url' is a required property");
        var caller = http.Caller();
        http.Authorize("backup:backup-import", caller.ProjectId, caller.UserId);
        if (service != CinderOptions.PosixBackupDriver)
            throw new OpenStackError(503, "Service Unavailable", $"Service {service} could not be found.");
        var host = await BackupHostAsync(http, db, null, ct);
        JsonObject record;
        try
        {
            record = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(url))) as JsonObject
                ?? throw new FormatException();
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            throw OpenStackError.BadRequest("Invalid input received: Can't parse backup record.");
        }
        if (record["id"] is not JsonValue idValue || !Guid.TryParse(idValue.ToString(), out _))
            throw OpenStackError.BadRequest("Invalid input received: Provided backup record is missing an id");
        if (record["size"] is not JsonValue sizeValue || !sizeValue.TryGetValue<int>(out var size))
            throw OpenStackError.BadRequest("Invalid input received: Provided backup record is missing size attribute");
        var id = idValue.ToString();
        if (await db.Backups.AnyAsync(b => b.Id == id, ct)) throw OpenStackError.BadRequest("Invalid backup: Backup already exists in database.");
        var projectId = http.ProjectId();
        await quotas.CheckBackupAsync(projectId, size, ct);
        string? Text(string key) => record[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        var container = Text("container");
        if (container is not null) CheckContainer(container);
        var now = http.Now();
        var backup = new BackupRow
        {
            Id = id,
            ProjectId = projectId,
            UserId = caller.UserId,
            VolumeId = Text("volume_id") ?? ImportVolumeId,
            SnapshotId = Text("snapshot_id"),
            Host = host,
            AvailabilityZone = Text("availability_zone"),
            Name = Text("display_name"),
            Description = Text("display_description"),
            Container = container,
            Size = size,
            ObjectCount = record["object_count"] is JsonValue c && c.TryGetValue<int>(out var count) ? count : 0,
            Service = service,
            ServiceMetadata = Text("service_metadata"),
            Metadata = record["metadata"] is JsonObject m ? MetadataColumn.Write(m.ToDictionary(p => p.Key, p => p.Value?.ToString() ?? "")) : null,
            DataTimestamp = DateTime.TryParse(Text("data_timestamp"), System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : now,
            CreatedAt = now,
        };
        // The parent is kept only while it exists here: a record imported alone restores what its own objects and the parent's hold.
        if (Text("parent_id") is { } parentId && await db.Backups.AnyAsync(b => b.Id == parentId, ct)) backup.ParentId = parentId;
        db.Backups.Add(backup);
        await db.SaveChangesAsync(ct);
        await backups.CastAsync(host, new ImportBackup(backup.Id), ct);
        return new JsonResponse(new JsonObject { ["backup"] = Summary(http, backup) }, 201);
    }

    static async Task<IResult> Action(string id, HttpContext http, CinderDb db, BackupApi backups, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var b = await FindAsync(http, db, id, ct);
        if (body.ContainsKey("os-reset_status"))
        {
            http.Authorize("volume_extension:backup_admin_actions:reset_status", b.ProjectId, b.UserId);
            var status = (body["os-reset_status"] as JsonObject)?.OptionalString("status")
                ?? throw CinderApi.Invalid("os-reset_status", body["os-reset_status"], "'status' is a required property");
            // Cinder's backup manager resets only to these two.
            if (status is not (BackupStatus.Available or BackupStatus.Error))
                throw CinderApi.Invalid("os-reset_status/status", status, $"'{status}' is not one of ['available', 'error']");
            b.Status = status;
            b.Touch(http.Now());
            await db.SaveChangesAsync(ct);
            return Results.Accepted();
        }
        if (body.ContainsKey("os-force_delete"))
        {
            http.Authorize("volume_extension:backup_admin_actions:force_delete", b.ProjectId, b.UserId);
            await BeginDeleteAsync(http, db, backups, b, ct);
            return Results.Accepted();
        }
        throw OpenStackError.BadRequest("There is no such action: " + string.Join(",", body.Select(p => p.Key)));
    }

    static string? Uuid(JsonObject body, string field)
    {
        var value = body[field];
        if (value is null) return null;
        if (value.GetValueKind() != System.Text.Json.JsonValueKind.String || !Guid.TryParse(value.GetValue<string>(), out _))
            throw CinderApi.Invalid(field, value, $"{(value.GetValueKind() == System.Text.Json.JsonValueKind.String ? $"'{value.GetValue<string>()}'" : value.ToJsonString())} is not a 'uuid'");
        return value.GetValue<string>();
    }

    static string? Container(JsonObject body)
    {
        var container = body.OptionalString("container", allowEmpty: true);
        if (container is { Length: > 0 }) CheckContainer(container);
        return container is { Length: > 0 } ? container : null;
    }

    /// <summary>The posix driver makes the container a directory under backup_posix_path: it may not climb out of it.</summary>
    static void CheckContainer(string container)
    {
        if (Path.IsPathRooted(container) || container.Split('/').Any(part => part is ".." or "." or ""))
            throw OpenStackError.BadRequest($"Invalid input received: Invalid container name {container}: it must be a relative path without '.' or '..' parts.");
    }
}
