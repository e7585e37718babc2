using Stratus.BlockStorage.Rpc;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>POST /volumes/{id}/action</c>: extend, the admin actions (reset status, force delete), bootable and read-only
/// flags, retype, the upload of a volume to the image service, and the legacy attach flow Nova used before the attachments API (reserve, initialize connection,
/// attach, begin detaching, detach, terminate connection, roll detaching, unreserve), with Cinder's status rules.
/// </summary>
public static class VolumeActionsApi
{
    public static void MapVolumeActions(this RouteGroupBuilder project) => project.MapPost("/volumes/{id}/action", Action);

    static async Task<IResult> Action(string id, HttpContext http, CinderDb db, CinderStore store, VolumeApi volumes, Quotas quotas, ImageLookup images,
        CinderOptions options, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (body.Count != 1) throw OpenStackError.BadRequest("Invalid request body: exactly one action is expected");
        var (name, node) = body.First();
        var args = node as JsonObject ?? [];
        var v = await VolumesApi.FindAsync(http, db, id, ct);
        var now = http.Now();
        switch (name)
        {
            case "os-extend":
                return await ExtendAsync(http, db, volumes, quotas, v, args, ct);
            case "os-volume_upload_image":
                return await UploadImageAsync(http, db, volumes, images, options, v, args, ct);
            case "os-reset_status":
                http.Authorize("volume_extension:volume_admin_actions:reset_status", v.ProjectId, v.UserId);
                ResetStatus(v, args);
                break;
            case "os-force_delete":
                http.Authorize("volume_extension:volume_admin_actions:force_delete", v.ProjectId, v.UserId);
                await VolumesApi.BeginDeleteAsync(http, store, volumes, v, force: true, cascade: false, ct);
                return Results.Accepted();
            case "os-set_bootable":
                http.Authorize("volume:update", v.ProjectId, v.UserId);
                if (!args.ContainsKey("bootable")) throw CinderApi.Invalid(name, args, "'bootable' is a required property");
                v.Bootable = CinderApi.Bool(args, "bootable");
                v.Touch(now);
                await db.SaveChangesAsync(ct);
                return Results.Ok();
            case "os-update_readonly_flag":
                http.Authorize("volume:update_readonly_flag", v.ProjectId, v.UserId);
                if (!args.ContainsKey("readonly")) throw CinderApi.Invalid(name, args, "'readonly' is a required property");
                RequireStatus(v, "update readonly flag", VolumeStatus.Available);
                v.ReadOnly = CinderApi.Bool(args, "readonly");
                var meta = MetadataColumn.Read(v.Metadata);
                meta["readonly"] = v.ReadOnly ? "True" : "False";
                v.Metadata = MetadataColumn.Write(meta);
                break;
            case "os-retype":
                http.Authorize("volume:retype", v.ProjectId, v.UserId);
                var type = await TypesApi.FindByNameOrIdAsync(http, store, args.OptionalString("new_type")
                    ?? throw CinderApi.Invalid(name, args, "'new_type' is a required property"), ct);
                if (v.Status is not (VolumeStatus.Available or VolumeStatus.InUse))
                    throw OpenStackError.BadRequest($"Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.");
                if (type.Id == v.VolumeTypeId) throw OpenStackError.BadRequest("Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.");
                // Every backend here keeps volumes as files, so a new type needs no migration of the bytes.
                v.VolumeTypeId = type.Id;
                break;
            case "os-set_image_metadata":
                {
                    http.Authorize("volume_extension:volume_image_metadata:set", v.ProjectId, v.UserId);
                    var given = CinderApi.Metadata(args);
                    var image = MetadataColumn.Read(v.ImageMetadata);
                    foreach (var (k, value) in given) image[k] = value;
                    v.ImageMetadata = MetadataColumn.Write(image);
                    v.Touch(now);
                    await db.SaveChangesAsync(ct);
                    return new JsonResponse(new JsonObject { ["metadata"] = MetadataColumn.View(v.ImageMetadata) });
                }
            case "os-unset_image_metadata":
                {
                    http.Authorize("volume_extension:volume_image_metadata:remove", v.ProjectId, v.UserId);
                    var key = args.OptionalString("key") ?? throw CinderApi.Invalid(name, args, "'key' is a required property");
                    var image = MetadataColumn.Read(v.ImageMetadata);
                    if (!image.Remove(key)) throw OpenStackError.NotFound($"Glance metadata for volume {v.Id} cannot be found.");
                    v.ImageMetadata = MetadataColumn.Write(image);
                    v.Touch(now);
                    await db.SaveChangesAsync(ct);
                    return Results.Ok();
                }
            case "os-show_image_metadata":
                http.Authorize("volume_extension:volume_image_metadata:show", v.ProjectId, v.UserId);
                return new JsonResponse(new JsonObject { ["metadata"] = MetadataColumn.View(v.ImageMetadata) });
            case "os-reserve":
                http.Authorize("volume_extension:volume_actions:reserve", v.ProjectId, v.UserId);
                if (!(v.Status == VolumeStatus.Available || (v.Multiattach && v.Status == VolumeStatus.InUse)))
                    throw OpenStackError.BadRequest($"Invalid volume: Volume status must be {(v.Multiattach ? "available or in-use" : "available")} to reserve, but the status is {v.Status}.");
                v.Status = VolumeStatus.Attaching;
                break;
            case "os-unreserve":
                http.Authorize("volume_extension:volume_actions:unreserve", v.ProjectId, v.UserId);
                if (v.Status != VolumeStatus.Attaching) return Results.Accepted();
                v.Status = await AttachedAsync(db, v, ct) ? VolumeStatus.InUse : VolumeStatus.Available;
                break;
            case "os-begin_detaching":
                http.Authorize("volume_extension:volume_actions:begin_detaching", v.ProjectId, v.UserId);
                if (v.Status != VolumeStatus.InUse || v.AttachStatus != "attached")
                    throw OpenStackError.BadRequest("Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.");
                v.Status = VolumeStatus.Detaching;
                break;
            case "os-roll_detaching":
                http.Authorize("volume_extension:volume_actions:roll_detaching", v.ProjectId, v.UserId);
                if (v.Status != VolumeStatus.Detaching) return Results.Accepted();
                v.Status = VolumeStatus.InUse;
                break;
            case "os-initialize_connection":
                {
                    http.Authorize("volume_extension:volume_actions:initialize_connection", v.ProjectId, v.UserId);
                    var connector = args["connector"] as JsonObject ?? throw CinderApi.Invalid(name, args, "'connector' is a required property");
                    RequireStatus(v, "initialize connection", VolumeStatus.Available, VolumeStatus.Attaching, VolumeStatus.Reserved, VolumeStatus.InUse, VolumeStatus.Downloading);
                    var info = await ConnectionInfoAsync(volumes, v, connector, ct);
                    return new JsonResponse(new JsonObject { ["connection_info"] = info });
                }
            case "os-terminate_connection":
                http.Authorize("volume_extension:volume_actions:terminate_connection", v.ProjectId, v.UserId);
                if (args["connector"] is not JsonObject) throw CinderApi.Invalid(name, args, "'connector' is a required property");
                return Results.Accepted();
            case "os-attach":
                {
                    http.Authorize("volume_extension:volume_actions:attach", v.ProjectId, v.UserId);
                    var instance = args.OptionalString("instance_uuid");
                    var hostName = args.OptionalString("host_name");
                    if (instance is null && hostName is null) throw OpenStackError.BadRequest("Invalid request to attach volume to an invalid target");
                    var mode = args.OptionalString("mode") ?? "rw";
                    if (mode is not ("rw" or "ro")) throw OpenStackError.BadRequest("Invalid request to attach volume with an invalid mode. Attaching mode should be 'rw' or 'ro'");
                    if (v.ReadOnly && mode == "rw") throw OpenStackError.BadRequest($"Invalid attaching mode 'rw' for volume {v.Id}.");
                    RequireStatus(v, "attach", VolumeStatus.Attaching, VolumeStatus.Reserved, VolumeStatus.Available, VolumeStatus.InUse);
                    if (v.Status == VolumeStatus.InUse && !v.Multiattach)
                        throw OpenStackError.BadRequest($"Invalid volume: Volume {v.Id} status must be available or attaching or reserved, but current status is: in-use.");
                    db.Attachments.Add(new VolumeAttachment
                    {
                        Id = Guid.NewGuid().ToString(),
                        VolumeId = v.Id,
                        ProjectId = v.ProjectId,
                        InstanceUuid = instance,
                        AttachedHost = hostName,
                        Mountpoint = args.OptionalString("mountpoint"),
                        AttachStatus = "attached",
                        AttachMode = mode,
                        AttachTime = now,
                        CreatedAt = now,
                    });
                    v.Status = VolumeStatus.InUse;
                    v.AttachStatus = "attached";
                    break;
                }
            case "os-detach":
                {
                    http.Authorize("volume_extension:volume_actions:detach", v.ProjectId, v.UserId);
                    var attachments = await db.Attachments.Where(a => a.VolumeId == v.Id).ToListAsync(ct);
                    var attachmentId = args.OptionalString("attachment_id");
                    if (attachmentId is null && attachments.Count > 1)
                        throw OpenStackError.BadRequest($"Invalid volume: Volume {v.Id} is attached to more than one instance: detach needs an attachment_id.");
                    var attachment = attachmentId is null ? attachments.FirstOrDefault() : attachments.FirstOrDefault(a => a.Id == attachmentId);
                    if (attachment is null)
                        throw attachmentId is null
                            ? OpenStackError.BadRequest($"Invalid volume: Volume {v.Id} is not attached.")
                            : OpenStackError.NotFound($"Volume attachment could not be found with filter: attachment_id = {attachmentId}.");
                    db.Attachments.Remove(attachment);
                    var left = attachments.Count(a => a != attachment && a.AttachStatus == "attached");
                    v.Status = left > 0 ? VolumeStatus.InUse : VolumeStatus.Available;
                    v.AttachStatus = left > 0 ? "attached" : "detached";
                    break;
                }
            default:
                throw OpenStackError.BadRequest($"There is no such action: {name}");
        }
        v.Touch(now);
        await db.SaveChangesAsync(ct);
        return Results.Accepted();
    }

    static async Task<IResult> ExtendAsync(HttpContext http, CinderDb db, VolumeApi volumes, Quotas quotas, VolumeRow v, JsonObject args, CancellationToken ct)
    {
        var attached = v.Status == VolumeStatus.InUse;
        http.Authorize(attached ? "volume:extend_attached_volume" : "volume:extend", v.ProjectId, v.UserId);
        var newSize = CinderApi.Size(args, "new_size", allowNull: false)!.Value;
        var allowed = http.Version().AtLeast(42) ? new[] { VolumeStatus.Available, VolumeStatus.InUse } : [VolumeStatus.Available];
        if (newSize <= v.Size)
            throw OpenStackError.BadRequest($"Invalid input received: New size for extend must be greater than current size. (current: {v.Size}, extended: {newSize}).");
        if (!allowed.Contains(v.Status))
            throw OpenStackError.BadRequest($"Invalid volume: Volume {v.Id} status must be '{{'status': {string.Join(", ", allowed.Select(s => $"'{s}'"))}}}' to extend, currently {v.Status}.");
        var limits = await quotas.LimitsAsync(v.ProjectId, ct);
        if (limits["per_volume_gigabytes"] is var per and >= 0 && newSize > per)
            throw new OpenStackError(413, "Request Entity Too Large", $"Requested volume size {newSize}G is larger than maximum allowed limit {per}G.");
        var usage = await quotas.UsageAsync(v.ProjectId, ct);
        if (limits["gigabytes"] is var gb and >= 0 && usage["gigabytes"] + newSize - v.Size > gb)
            throw new OpenStackError(413, "Request Entity Too Large",
                $"Requested volume or snapshot exceeds allowed gigabytes quota. Requested {newSize - v.Size}G, quota is {gb}G and {usage["gigabytes"]}G has been consumed.");
        var returnStatus = v.Status;
        v.Status = VolumeStatus.Extending;
        v.Touch(http.Now());
        await db.SaveChangesAsync(ct);
        await volumes.CastAsync(v.Backend, new ExtendVolume(v.Id, newSize, returnStatus), ct);
        return Results.Accepted();
    }

    static readonly string[] DiskFormats = ["raw", "vmdk", "vdi", "qcow2", "vhd", "vhdx", "ploop"];

    /// <summary>
    /// What the volume's image metadata must not carry into the new image: Cinder's glance_core_properties (the
    /// source image's own fields), the fields Glance sets itself, and Glance's reserved namespace.
    /// </summary>
    static readonly string[] NotCopiedToImage = ["checksum", "container_format", "disk_format", "image_name", "image_id", "min_disk", "min_ram", "name", "size", "virtual_size"];

    /// <summary>
    /// Cinder's copy_volume_to_image: the volume goes uploading, the image service gets a queued image (the volume's
    /// image properties with it), and the volume's cinder-volume writes the bytes into it; the 202 names the image.
    /// </summary>
    static async Task<IResult> UploadImageAsync(HttpContext http, CinderDb db, VolumeApi volumes, ImageLookup images, CinderOptions options,
        VolumeRow v, JsonObject args, CancellationToken ct)
    {
        const string action = "os-volume_upload_image";
        foreach (var (key, _) in args)
            if (key is not ("image_name" or "force" or "disk_format" or "container_format") && !(http.Version().AtLeast(1) && key is "visibility" or "protected"))
                throw CinderApi.Invalid(action, args, $"Additional properties are not allowed ('{key}' was unexpected)");
        var name = args["image_name"];
        if (name?.GetValueKind() != System.Text.Json.JsonValueKind.String) throw CinderApi.Invalid("image_name", name, name is null ? "'image_name' is a required property" : "is not of type 'string'");
        var imageName = name.GetValue<string>();
        if (imageName.Length is 0 or > 255) throw CinderApi.Invalid("image_name", name, imageName.Length == 0 ? $"'' is too short" : "is too long");
        var force = args.ContainsKey("force") && CinderApi.Bool(args, "force");
        var diskFormat = args.OptionalString("disk_format") ?? "raw";
        if (!DiskFormats.Contains(diskFormat)) throw CinderApi.Invalid("disk_format", args["disk_format"], $"'{diskFormat}' is not one of [{string.Join(", ", DiskFormats.Select(f => $"'{f}'"))}]");
        var containerFormat = args.OptionalString("container_format") ?? "bare";
        http.Authorize("volume_extension:volume_actions:upload_image", v.ProjectId, v.UserId);
        var image = new JsonObject { ["name"] = imageName, ["disk_format"] = diskFormat, ["container_format"] = containerFormat };
        if (http.Version().AtLeast(1))
        {
            var visibility = args.OptionalString("visibility") ?? "private";
            if (visibility is not ("community" or "public" or "private" or "shared"))
                throw CinderApi.Invalid("visibility", args["visibility"], $"'{visibility}' is not one of ['community', 'public', 'private', 'shared']");
            if (visibility == "public") http.Authorize("volume_extension:volume_actions:upload_public", v.ProjectId, v.UserId);
            image["visibility"] = visibility;
            image["protected"] = args.ContainsKey("protected") && CinderApi.Bool(args, "protected");
        }
        foreach (var (key, value) in MetadataColumn.Read(v.ImageMetadata))
            if (!NotCopiedToImage.Contains(key) && !key.StartsWith("os_glance", StringComparison.Ordinal)) image[key] = value;

        // Cinder ignores force unless [DEFAULT] enable_force_upload allows uploading an in-use volume.
        string[] allowed = force && options.EnableForceUpload ? [VolumeStatus.Available, VolumeStatus.InUse] : [VolumeStatus.Available];
        if (!allowed.Contains(v.Status)) throw OpenStackError.BadRequest($"Invalid volume: Volume {v.Id} status must be {string.Join(" or ", allowed)}");
        var previous = v.Status;
        v.Status = VolumeStatus.Uploading;
        v.Touch(http.Now());
        await db.SaveChangesAsync(ct);
        string endpoint;
        JsonObject created;
        try
        {
            (endpoint, created) = await images.CreateAsync(http.Caller(), image, ct);
        }
        catch
        {
            v.Status = previous;
            v.Touch(http.Now());
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
        var imageId = (string)created["id"]!;
        await volumes.CastAsync(v.Backend, new UploadImage(v.Id, imageId, diskFormat, endpoint, http.Caller().Token, http.RequestId()), ct);
        var type = await db.VolumeTypes.AsNoTracking().FirstOrDefaultAsync(t => t.Id == v.VolumeTypeId, ct);
        var response = new JsonObject
        {
            ["id"] = v.Id,
            ["updated_at"] = v.UpdatedAt,
            ["status"] = VolumeStatus.Uploading,
            ["display_description"] = v.Description,
            ["size"] = v.Size,
            ["volume_type"] = type is null ? null : new JsonObject
            {
                ["id"] = type.Id,
                ["name"] = type.Name,
                ["description"] = type.Description,
                ["is_public"] = type.IsPublic,
                ["extra_specs"] = MetadataColumn.View(type.ExtraSpecs),
            },
            ["image_id"] = imageId,
            ["container_format"] = created["container_format"]?.DeepClone(),
            ["disk_format"] = created["disk_format"]?.DeepClone(),
            ["image_name"] = created["name"]?.DeepClone(),
        };
        if (created.ContainsKey("protected")) response["protected"] = created["protected"]!.DeepClone();
        if (created.ContainsKey("visibility")) response["visibility"] = created["visibility"]!.DeepClone();
        return new JsonResponse(new JsonObject { [action] = response }, StatusCodes.Status202Accepted);
    }

    static void ResetStatus(VolumeRow v, JsonObject args)
    {
        if (args.Count == 0) throw CinderApi.Invalid("os-reset_status", args, "{} does not have enough properties");
        if (args.OptionalString("status") is { } status)
        {
            if (!VolumeStatus.All.Contains(status)) throw OpenStackError.BadRequest($"Invalid input received: Must specify a valid status");
            v.Status = status;
        }
        if (args.OptionalString("attach_status") is { } attach)
        {
            if (attach is not ("attached" or "detached")) throw OpenStackError.BadRequest($"Invalid input received: Must specify a valid attach status");
            v.AttachStatus = attach;
        }
        if (args.ContainsKey("migration_status"))
        {
            var migration = args.OptionalString("migration_status");
            if (migration is not (null or "none" or "migrating" or "error" or "success" or "completing" or "starting"))
                throw OpenStackError.BadRequest($"Invalid input received: Must specify a valid migration status");
            v.MigrationStatus = migration is "none" ? null : migration;
        }
    }

    static void RequireStatus(VolumeRow v, string what, params string[] statuses)
    {
        if (!statuses.Contains(v.Status))
            throw OpenStackError.BadRequest($"Invalid volume: Volume {v.Id} status must be {string.Join(" or ", statuses)} to {what}, but current status is: {v.Status}.");
    }

    static Task<bool> AttachedAsync(CinderDb db, VolumeRow v, CancellationToken ct) => db.Attachments.AnyAsync(a => a.VolumeId == v.Id && a.AttachStatus == "attached", ct);

    /// <summary>The backend's connection info for a connector (an RPC call to the volume's cinder-volume, as Cinder's API makes it).</summary>
    public static async Task<JsonNode?> ConnectionInfoAsync(VolumeApi volumes, VolumeRow v, JsonObject connector, CancellationToken ct)
    {
        if (v.Host is null) throw OpenStackError.BadRequest($"Invalid volume: Volume {v.Id} has no backend: it was never created.");
        try
        {
            var info = await volumes.CallAsync(v.Backend, new InitializeConnection(v.Id, connector.ToJsonString()), VolumeRpc.CallTimeout, ct);
            return JsonNode.Parse(info.Json);
        }
        catch (Core.Messaging.RpcTimeoutException)
        {
            throw new OpenStackError(500, "Internal Server Error", $"Unable to fetch connection information from backend: {v.Backend} did not answer.");
        }
    }
}
