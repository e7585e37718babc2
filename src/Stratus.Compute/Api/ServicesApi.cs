using Stratus.Core.Services;

namespace Stratus.Compute.Api;

/// <summary><c>/os-services</c> (admin): Nova's services with their host, zone, status and state from heartbeats; enable, disable, force down, delete.</summary>
public static class ServicesApi
{
    public static RouteGroupBuilder MapServices(this RouteGroupBuilder v21)
    {
        var services = v21.MapGroup("/os-services");
        services.MapGet("", List).RequirePolicy("os_compute_api:os-services:list");
        services.MapPut("/{id}", Update).RequirePolicy("os_compute_api:os-services:update");
        services.MapDelete("/{id}", Delete).RequirePolicy("os_compute_api:os-services:delete");
        return services;
    }

    static JsonObject View(HttpContext http, ServiceRecord s, ServiceGroup group)
    {
        var v = Microversion.Of(http);
        var row = group.Row(s);
        var o = new JsonObject
        {
            ["id"] = v.AtLeast(53) ? s.Uuid : s.Id,
            ["binary"] = row.Binary,
            ["disabled_reason"] = s.DisabledReason,
            ["host"] = row.Host,
            ["state"] = row.State,
            ["status"] = row.Status,
            ["updated_at"] = row.UpdatedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture),
            ["zone"] = row.Zone,
        };
        if (v.AtLeast(11)) o["forced_down"] = s.ForcedDown;
        return o;
    }

    static async Task<IResult> List(HttpContext http, CellDb db, ServiceGroup group, CancellationToken ct)
    {
        var q = http.Request.Query;
        IQueryable<ServiceRecord> query = db.Services;
        if (q["host"].FirstOrDefault() is { } host) query = query.Where(s => s.Host == host);
        if (q["binary"].FirstOrDefault() is { } binary) query = query.Where(s => s.Binary == binary);
        var list = await query.OrderBy(s => s.Id).ToListAsync(ct);
        return new JsonResponse(new JsonObject { ["services"] = new JsonArray([.. list.Select(s => (JsonNode)View(http, s, group))]) });
    }

    static async Task<IResult> Update(string id, HttpContext http, CellDb db, ServiceGroup group, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var v = Microversion.Of(http);
        ServiceRecord service;
        if (v.AtLeast(53))
        {
            service = await db.Services.FirstOrDefaultAsync(s => s.Uuid == id, ct) ?? throw OpenStackError.NotFound($"Service {id} could not be found.");
            if (body.OptionalString("status") is { } status)
            {
                if (status is not ("enabled" or "disabled")) throw OpenStackError.BadRequest($"Invalid input for field/attribute status. Value: {status}.");
                service.Disabled = status == "disabled";
                service.DisabledReason = service.Disabled ? body.OptionalString("disabled_reason", 255, allowEmpty: true) : null;
            }
            else if (body.ContainsKey("disabled_reason")) throw OpenStackError.BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
            if (body.NovaBool("forced_down") is { } down) service.ForcedDown = down;
        }
        else
        {
            // Before 2.53: PUT /os-services/{enable|disable|disable-log-reason|force-down} with host and binary.
            var host = body.RequiredString("host");
            var binary = body.RequiredString("binary");
            service = await db.Services.FirstOrDefaultAsync(s => s.Host == host && s.Binary == binary, ct)
                ?? throw OpenStackError.NotFound($"Service {binary} on host {host} could not be found.");
            switch (id)
            {
                case "enable": service.Disabled = false; service.DisabledReason = null; break;
                case "disable": service.Disabled = true; break;
                case "disable-log-reason": service.Disabled = true; service.DisabledReason = body.RequiredString("disabled_reason"); break;
                case "force-down" when v.AtLeast(11): service.ForcedDown = body.NovaBool("forced_down") ?? throw OpenStackError.BadRequest("'forced_down' is a required property"); break;
                default: throw OpenStackError.NotFound($"Unknown action {id}");
            }
            service.UpdatedAt = DateTime.UtcNow;
            await db.SaveChangesAsync(ct);
            var legacy = new JsonObject { ["host"] = host, ["binary"] = binary, ["status"] = service.Disabled ? "disabled" : "enabled" };
            if (id == "disable-log-reason") legacy["disabled_reason"] = service.DisabledReason;
            if (id == "force-down") legacy = new JsonObject { ["host"] = host, ["binary"] = binary, ["forced_down"] = service.ForcedDown };
            return new JsonResponse(new JsonObject { ["service"] = legacy });
        }
        service.UpdatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["service"] = View(http, service, group) });
    }

    static async Task<IResult> Delete(string id, HttpContext http, CellDb db, CancellationToken ct)
    {
        var v = Microversion.Of(http);
        var service = v.AtLeast(53)
            ? await db.Services.FirstOrDefaultAsync(s => s.Uuid == id, ct)
            : int.TryParse(id, out var n) ? await db.Services.FirstOrDefaultAsync(s => s.Id == n, ct) : null;
        if (service is null) throw OpenStackError.NotFound($"Service {id} could not be found.");
        if (service.Binary == NovaOptions.Compute && await db.Instances.AnyAsync(i => i.Host == service.Host && !i.Deleted, ct))
            throw OpenStackError.Conflict($"Unable to delete compute service that is hosting instances. Migrate or delete the instances first.");
        db.Services.Remove(service);
        if (service.Binary == NovaOptions.Compute) db.ComputeNodes.RemoveRange(db.ComputeNodes.Where(c => c.Host == service.Host));
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
