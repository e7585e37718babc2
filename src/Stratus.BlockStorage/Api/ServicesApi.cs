using Stratus.Core.Services;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/os-services</c> (admin): cinder-scheduler and each cinder-volume <c>host@backend</c> with zone, status and
/// the up/down state of their heartbeats; enable and disable. <c>/os-availability-zone</c>: the zones of the volume services.
/// </summary>
public static class ServicesApi
{
    public static void MapServices(this RouteGroupBuilder project)
    {
        project.MapGet("/os-services", List);
        project.MapPut("/os-services/{action}", Update);
        project.MapGet("/os-availability-zone", Zones);
    }

    static JsonObject View(HttpContext http, ServiceRecord s, ServiceGroup group)
    {
        var row = group.Row(s);
        var o = new JsonObject
        {
            ["binary"] = row.Binary,
            ["host"] = row.Host,
            ["zone"] = row.Zone,
            ["status"] = row.Status,
            ["state"] = row.State,
            ["updated_at"] = CinderApi.Time(row.UpdatedAt),
            ["disabled_reason"] = s.DisabledReason,
        };
        var v = http.Version();
        if (v.AtLeast(7)) o["cluster"] = null;
        if (s.Binary == CinderOptions.Volume)
        {
            o["replication_status"] = "disabled";
            o["active_backend_id"] = null;
            o["frozen"] = false;
            if (v.AtLeast(49)) o["backend_state"] = row.Up ? "up" : "down";
        }
        return o;
    }

    static async Task<IResult> List(HttpContext http, CinderDb db, ServiceGroup group, CancellationToken ct)
    {
        http.Enforce("volume_extension:services:index");
        var q = http.Request.Query;
        IQueryable<ServiceRecord> query = db.Services.AsNoTracking();
        // A host names its cinder-volume backends too (host@backend), as Cinder's filter does.
        if (q["host"].FirstOrDefault() is { } host) query = query.Where(s => s.Host == host || s.Host.StartsWith(host + "@"));
        if (q["binary"].FirstOrDefault() is { } binary) query = query.Where(s => s.Binary == binary);
        var rows = await query.OrderBy(s => s.Id).ToListAsync(ct);
        return new JsonResponse(new JsonObject { ["services"] = new JsonArray([.. rows.Select(s => (JsonNode)View(http, s, group))]) });
    }

    static async Task<IResult> Update(string action, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:services:update");
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var host = body.OptionalString("host") ?? throw OpenStackError.BadRequest("Missing required element 'host' in request body.");
        if (action is "freeze" or "thaw")
        {
            // Replication's freeze and thaw: the file backend replicates nothing, so only the host is checked.
            http.Enforce(action == "freeze" ? "volume:freeze_host" : "volume:thaw_host");
            if (!await db.Services.AnyAsync(s => s.Binary == CinderOptions.Volume && (s.Host == host || s.Host.StartsWith(host + "@")), ct))
                throw OpenStackError.BadRequest($"Invalid input received: No service found with host={host}");
            return Results.Ok();
        }
        var binary = body.OptionalString("binary") ?? body.OptionalString("service");
        var rows = await db.Services.Where(s => s.Host == host && (binary == null || s.Binary == binary)).ToListAsync(ct);
        if (rows.Count == 0) throw OpenStackError.NotFound($"Service {binary} could not be found.");
        switch (action)
        {
            case "enable":
                foreach (var s in rows) { s.Disabled = false; s.DisabledReason = null; }
                break;
            case "disable" or "disable-log-reason":
                var reason = action == "disable-log-reason" ? body.OptionalString("disabled_reason") ?? throw OpenStackError.BadRequest("Disabled reason contains invalid characters or is too long") : null;
                foreach (var s in rows) { s.Disabled = true; s.DisabledReason = reason; }
                break;
            default:
                throw OpenStackError.NotFound($"Unknown action");
        }
        await db.SaveChangesAsync(ct);
        var result = new JsonObject { ["host"] = host, ["service"] = binary, ["disabled"] = action != "enable", ["binary"] = binary };
        if (action != "enable") result["disabled_reason"] = rows[0].DisabledReason;
        result["status"] = action == "enable" ? "enabled" : "disabled";
        return new JsonResponse(result);
    }

    static async Task<IResult> Zones(HttpContext http, CinderDb db, CinderOptions options, ServiceGroup group, CancellationToken ct)
    {
        var rows = await db.Services.AsNoTracking().Where(s => s.Binary == CinderOptions.Volume).ToListAsync(ct);
        var zones = rows.GroupBy(s => s.AvailabilityZone).Select(g => (Zone: g.Key, Up: g.Any(s => !s.Disabled && group.IsUp(s)))).ToList();
        if (zones.Count == 0) zones.Add((options.StorageAvailabilityZone, false));
        return new JsonResponse(new JsonObject
        {
            ["availabilityZoneInfo"] = new JsonArray([.. zones.OrderBy(z => z.Zone).Select(z => (JsonNode)new JsonObject
            {
                ["zoneName"] = z.Zone,
                ["zoneState"] = new JsonObject { ["available"] = z.Up },
            })]),
        });
    }
}
