using Stratus.Identity.Catalog;

namespace Stratus.Identity.Api;

/// <summary>/v3/services (keystone/api/services.py).</summary>
public static class ServicesApi
{
    static readonly string[] Attributes = ["id", "type", "name", "enabled", "links"];

    public static RouteGroupBuilder MapServices(this RouteGroupBuilder v3)
    {
        var services = v3.MapGroup("/services");
        services.MapMethods("/", ["GET", "HEAD"], List).RequirePolicy("identity:list_services");
        services.MapMethods("/{serviceId}", ["GET", "HEAD"], Get).RequirePolicy("identity:get_service");
        services.MapPost("/", Create).RequirePolicy("identity:create_service");
        services.MapPatch("/{serviceId}", Update).RequirePolicy("identity:update_service");
        services.MapDelete("/{serviceId}", Delete).RequirePolicy("identity:delete_service");
        return services;
    }

    /// <summary>Keystone keeps name and description among the extras: name defaults to "", description shows only once set.</summary>
    public static JsonObject Render(HttpContext http, Service s)
    {
        var o = new JsonObject
        {
            ["id"] = s.Id,
            ["type"] = s.Type,
            ["enabled"] = s.Enabled,
            ["name"] = s.Name ?? "",
        };
        if (s.Description is not null) o["description"] = s.Description;
        o["links"] = Links.Self(http, "services/" + s.Id);
        return o.WithExtra(s.Extra);
    }

    static async Task<IResult> List(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var services = await db.Services.AsNoTracking().ToListAsync(ct);
        var items = RequestFields.Filter(services.Select(s => Render(http, s)), http.Request.Query, "type", "name");
        return new JsonResponse(Links.Collection(http, "services", items));
    }

    static async Task<IResult> Get(HttpContext http, IdentityDb db, string serviceId, CancellationToken ct) =>
        new JsonResponse(new JsonObject { ["service"] = Render(http, await FindAsync(db, serviceId, ct)) });

    static async Task<IResult> Create(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var body = RequestFields.Normalize((await JsonBody.ReadObjectAsync(http.Request, ct)).Object("service"));
        var type = RequestFields.NonNullString(body, "type", 255, 1) ?? throw OpenStackError.BadRequest("'type' is a required property");
        var service = new Service
        {
            Id = Links.NewId(),
            Type = type,
            Name = RequestFields.Name(body, "name") ?? "",
            Description = Description(body),
            Enabled = RequestFields.Bool(body, "enabled") ?? true,
            Extra = ExtraOf(body).ToJsonString(),
        };
        db.Services.Add(service);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["service"] = Render(http, service) }, 201);
    }

    static async Task<IResult> Update(HttpContext http, IdentityDb db, string serviceId, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("service");
        RequestFields.RequireSomething(body);
        var type = RequestFields.NonNullString(body, "type", 255, 1);
        var name = RequestFields.Name(body, "name");
        var description = Description(body);
        var enabled = RequestFields.Bool(body, "enabled");
        if (body.TryGetPropertyValue("id", out var id) && id is not null && id.ToJsonString() != $"\"{serviceId}\"")
            throw OpenStackError.BadRequest("Cannot change ID");
        var service = await FindAsync(db, serviceId, ct, tracked: true);
        if (type is not null) service.Type = type;
        if (name is not null) service.Name = name;
        if (enabled is not null) service.Enabled = enabled.Value;
        var extra = Extra.Parse(Extra.Merge(service.Extra, ExtraOf(body)));
        if (body.ContainsKey("description"))
        {
            service.Description = description;
            if (description is not null) extra.Remove("description");
        }
        service.Extra = extra.ToJsonString();
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["service"] = Render(http, service) });
    }

    /// <summary>As Keystone's sql driver: the service's endpoints go with it.</summary>
    static async Task<IResult> Delete(IdentityDb db, string serviceId, CancellationToken ct)
    {
        var service = await FindAsync(db, serviceId, ct, tracked: true);
        var endpointIds = await db.Endpoints.Where(e => e.ServiceId == serviceId).Select(e => e.Id).ToListAsync(ct);
        db.ProjectEndpoints.RemoveRange(await db.ProjectEndpoints.Where(p => endpointIds.Contains(p.EndpointId)).ToListAsync(ct));
        db.Endpoints.RemoveRange(await db.Endpoints.Where(e => e.ServiceId == serviceId).ToListAsync(ct));
        db.Services.Remove(service);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    /// <summary>Description is not in Keystone's service schema: a string has its column, any other value (null too) stays an extra.</summary>
    static string? Description(JsonObject body) =>
        body["description"] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : null;

    static JsonObject ExtraOf(JsonObject body)
    {
        var extra = body.Extra(Attributes);
        if (Description(body) is not null) extra.Remove("description");
        return extra;
    }

    public static async Task<Service> FindAsync(IdentityDb db, string id, CancellationToken ct, bool tracked = false)
    {
        var q = tracked ? db.Services : db.Services.AsNoTracking();
        return await q.FirstOrDefaultAsync(s => s.Id == id, ct) ?? throw OpenStackError.NotFound($"Could not find service: {id}.");
    }
}
