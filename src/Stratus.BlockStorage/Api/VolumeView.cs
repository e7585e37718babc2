namespace Stratus.BlockStorage.Api;

/// <summary>A volume as Cinder's v3 view builder shows it at the request's microversion, with the extensions' attributes the caller may see.</summary>
public static class VolumeView
{
    public static JsonObject Summary(HttpContext http, VolumeRow v) => new()
    {
        ["id"] = v.Id,
        ["name"] = v.Name,
        ["links"] = CinderApi.Links(http, "volumes", v.Id),
    };

    /// <param name="extensions">Whether to add what Cinder's extensions add to show and detail (tenant, host, migration,
    /// image metadata); create and update answer without.</param>
    public static async Task<JsonObject> DetailAsync(HttpContext http, CinderStore store, VolumeRow v, CancellationToken ct, bool extensions = true)
    {
        var version = http.Version();
        var admin = http.IsAdmin();
        var type = await store.TypeAsync(v.VolumeTypeId, ct);
        var attachments = await store.AttachedAsync(v.Id, ct);
        var o = new JsonObject
        {
            ["id"] = v.Id,
            ["status"] = v.Status,
            ["size"] = v.Size,
            ["availability_zone"] = v.AvailabilityZone,
            ["created_at"] = CinderApi.Time(v.CreatedAt),
            ["updated_at"] = CinderApi.Time(v.UpdatedAt),
            ["name"] = v.Name,
            ["description"] = v.Description,
            ["volume_type"] = type?.Name,
            ["snapshot_id"] = v.SnapshotId,
            ["source_volid"] = v.SourceVolId,
            ["metadata"] = MetadataColumn.View(v.Metadata),
            ["links"] = CinderApi.Links(http, "volumes", v.Id),
            ["user_id"] = v.UserId,
            ["bootable"] = v.Bootable ? "true" : "false",
            ["encrypted"] = false,
            ["replication_status"] = null,
            ["consistencygroup_id"] = null,
            ["multiattach"] = v.Multiattach,
            ["attachments"] = new JsonArray([.. attachments.Select(a => (JsonNode)new JsonObject
            {
                ["id"] = v.Id,
                ["attachment_id"] = a.Id,
                ["volume_id"] = v.Id,
                ["server_id"] = a.InstanceUuid,
                ["host_name"] = admin ? a.AttachedHost : null,
                ["device"] = a.Mountpoint,
                ["attached_at"] = CinderApi.Time(a.AttachTime),
            })]),
        };
        if (admin) o["migration_status"] = v.MigrationStatus;
        if (extensions) AddExtensions(http, v, o);
        if (version.AtLeast(13)) o["group_id"] = await store.GroupOfAsync(v.Id, ct);
        if (admin && version.AtLeast(21)) o["provider_id"] = null;
        if (version.AtLeast(48))
        {
            // Each volume is a file of its own: nothing shares a target (3.69 allows null, before it a boolean).
            o["shared_targets"] = false;
            o["service_uuid"] = null;
        }
        if (admin && version.AtLeast(61)) o["cluster_name"] = null;
        if (version.AtLeast(63)) o["volume_type_id"] = v.VolumeTypeId;
        if (version.AtLeast(65)) o["consumes_quota"] = true;
        return o;
    }

    static void AddExtensions(HttpContext http, VolumeRow v, JsonObject o)
    {
        if (http.IsAllowed("volume_extension:volume_tenant_attribute", Target(v))) o["os-vol-tenant-attr:tenant_id"] = v.ProjectId;
        if (http.IsAllowed("volume_extension:volume_host_attribute", Target(v))) o["os-vol-host-attr:host"] = v.Host;
        if (http.IsAllowed("volume_extension:volume_mig_status_attribute", Target(v)))
        {
            o["os-vol-mig-status-attr:migstat"] = v.MigrationStatus;
            o["os-vol-mig-status-attr:name_id"] = null;
        }
        if (v.ImageMetadata is not null && http.IsAllowed("volume_extension:volume_image_metadata:show", Target(v)))
            o["volume_image_metadata"] = MetadataColumn.View(v.ImageMetadata);
    }

    static Dictionary<string, string?> Target(VolumeRow v) => new(StringComparer.Ordinal) { ["project_id"] = v.ProjectId, ["user_id"] = v.UserId };
}
