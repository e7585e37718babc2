namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/extensions</c>: the API extensions of Cinder's contrib that this service serves, as Cinder describes them (name,
/// alias, its docstring, updated); backups, groups, encryption and manage/unmanage are not among them.
/// </summary>
public static class ExtensionsApi
{
    sealed record Extension(string Name, string Alias, string Description, string Updated);

    static readonly Extension[] Served =
    [
        new("AdminActions", "os-admin-actions", "Enable admin actions.", "2012-08-25T00:00:00+00:00"),
        new("AvailabilityZones", "os-availability-zone", "Describe Availability Zones.", "2013-06-27T00:00:00+00:00"),
        new("Capabilities", "capabilities", "Capabilities support.", "2015-08-31T00:00:00+00:00"),
        new("ExtendedServices", "os-extended-services", "Extended services support.", "2014-01-10T00:00:00-00:00"),
        new("ExtendedSnapshotAttributes", "os-extended-snapshot-attributes", "Extended SnapshotAttributes support.", "2012-06-19T00:00:00+00:00"),
        new("Hosts", "os-hosts", "Admin-only host administration.", "2011-06-29T00:00:00+00:00"),
        new("Qos_specs_manage", "qos-specs", "QoS specs support.", "2013-08-02T00:00:00+00:00"),
        new("QuotaClasses", "os-quota-class-sets", "Quota classes management support.", "2012-03-12T00:00:00+00:00"),
        new("Quotas", "os-quota-sets", "Quota management support.", "2011-08-08T00:00:00+00:00"),
        new("Scheduler_stats", "scheduler-stats", "Scheduler stats support.", "2014-09-07T00:00:00+00:00"),
        new("Services", "os-services", "Services support.", "2012-10-28T00:00:00-00:00"),
        new("SnapshotActions", "os-snapshot-actions", "Enable snapshot manager actions.", "2013-07-16T00:00:00+00:00"),
        new("TypesExtraSpecs", "os-types-extra-specs", "Type extra specs support.", "2011-08-24T00:00:00+00:00"),
        new("TypesManage", "os-types-manage", "Types manage support.", "2011-08-24T00:00:00+00:00"),
        new("UsedLimits", "os-used-limits", "Provide data on limited resources that are being used.", "2013-10-03T00:00:00+00:00"),
        new("VolumeActions", "os-volume-actions", "Enable volume actions.", "2012-05-31T00:00:00+00:00"),
        new("VolumeHostAttribute", "os-vol-host-attr", "Expose host as an attribute of a volume.", "2011-11-03T00:00:00+00:00"),
        new("VolumeImageMetadata", "os-vol-image-meta", "Show image metadata associated with the volume.", "2012-12-07T00:00:00+00:00"),
        new("VolumeMigStatusAttribute", "os-vol-mig-status-attr", "Expose migration_status as an attribute of a volume.", "2013-08-08T00:00:00+00:00"),
        new("VolumeTenantAttribute", "os-vol-tenant-attr", "Expose the internal project_id as an attribute of a volume.", "2011-11-03T00:00:00+00:00"),
        new("VolumeTransfer", "os-volume-transfer", "Volume transfer management support.", "2013-05-29T00:00:00+00:00"),
        new("VolumeTypeAccess", "os-volume-type-access", "Volume type access support.", "2014-06-26T00:00:00Z"),
    ];

    public static void MapExtensions(this RouteGroupBuilder project)
    {
        project.MapGet("/extensions", () => new JsonResponse(new JsonObject { ["extensions"] = new JsonArray([.. Served.Select(e => (JsonNode)View(e))]) }));
        project.MapGet("/extensions/{alias}", (string alias) => Served.FirstOrDefault(e => e.Alias == alias) is { } e
            ? new JsonResponse(new JsonObject { ["extension"] = View(e) })
            : throw OpenStackError.NotFound("The resource could not be found."));
    }

    static JsonObject View(Extension e) => new()
    {
        ["name"] = e.Name,
        ["alias"] = e.Alias,
        ["description"] = e.Description,
        ["updated"] = e.Updated,
        ["links"] = new JsonArray(),
    };
}
