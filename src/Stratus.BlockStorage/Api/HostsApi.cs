using Stratus.Core.Services;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/os-hosts</c> (admin, deprecated in Cinder but served): the enabled services' hosts with their zone and whether
/// they are alive, and for a cinder-volume host (<c>host@backend</c>) its volumes and snapshots, in all and per project.
/// </summary>
public static class HostsApi
{
    public static void MapHosts(this RouteGroupBuilder project)
    {
        project.MapGet("/os-hosts", List);
        project.MapGet("/os-hosts/{host}", Show);
    }

    static async Task<IResult> List(HttpContext http, CinderDb db, ServiceGroup group, CancellationToken ct)
    {
        http.Enforce("volume_extension:hosts");
        var zone = http.Request.Query["zone"].FirstOrDefault();
        var rows = await db.Services.AsNoTracking().Where(s => !s.Disabled).OrderBy(s => s.Id).ToListAsync(ct);
        return new JsonResponse(new JsonObject
        {
            ["hosts"] = new JsonArray([.. rows.Where(s => string.IsNullOrEmpty(zone) || s.AvailabilityZone == zone).Select(s => (JsonNode)new JsonObject
            {
                ["host_name"] = s.Host,
                ["service"] = s.Topic,
                ["zone"] = s.AvailabilityZone,
                ["service-status"] = group.IsUp(s) ? "available" : "unavailable",
                ["service-state"] = s.Disabled ? "disabled" : "enabled",
                ["last-update"] = CinderApi.Time(s.UpdatedAt),
            })]),
        });
    }

    static async Task<IResult> Show(string host, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:hosts");
        if (!await db.Services.AnyAsync(s => s.Host == host && s.Topic == Rpc.VolumeRpc.VolumeTopic, ct))
            throw OpenStackError.NotFound($"Host {host} could not be found.");
        // A volume's host is host@backend#pool: the backend's volumes are the host itself and its pools.
        var volumes = await db.Volumes.AsNoTracking().Where(v => v.Host == host || v.Host!.StartsWith(host + "#"))
            .Select(v => new { v.Id, v.ProjectId, v.Size }).ToListAsync(ct);
        var ids = volumes.Select(v => v.Id).ToList();
        var snapshots = await db.Snapshots.AsNoTracking().Where(s => ids.Contains(s.VolumeId)).Select(s => new { s.ProjectId, s.VolumeSize }).ToListAsync(ct);
        JsonNode Resource(string project, IEnumerable<int> volumeSizes, IEnumerable<int> snapshotSizes) => new JsonObject
        {
            ["resource"] = new JsonObject
            {
                ["host"] = host,
                ["project"] = project,
                ["volume_count"] = volumeSizes.Count().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["total_volume_gb"] = volumeSizes.Sum().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["snapshot_count"] = snapshotSizes.Count().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["total_snapshot_gb"] = snapshotSizes.Sum().ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        };
        var resources = new JsonArray { Resource("(total)", volumes.Select(v => v.Size), snapshots.Select(s => s.VolumeSize)) };
        foreach (var project in volumes.Select(v => v.ProjectId).Distinct().Order(StringComparer.Ordinal))
            resources.Add(Resource(project, volumes.Where(v => v.ProjectId == project).Select(v => v.Size),
                snapshots.Where(s => s.ProjectId == project).Select(s => s.VolumeSize)));
        return new JsonResponse(new JsonObject { ["host"] = resources });
    }
}
