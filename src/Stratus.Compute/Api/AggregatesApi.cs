using System.Globalization;

namespace Stratus.Compute.Api;

/// <summary>
/// <c>/os-aggregates</c> (admin): host aggregates with metadata; an aggregate's availability_zone is the
/// zone of its hosts (a host is in at most one zone).
/// </summary>
public static class AggregatesApi
{
    public static RouteGroupBuilder MapAggregates(this RouteGroupBuilder v21)
    {
        var aggregates = v21.MapGroup("/os-aggregates");
        aggregates.MapGet("", List).RequirePolicy("os_compute_api:os-aggregates:index");
        aggregates.MapPost("", Create).RequirePolicy("os_compute_api:os-aggregates:create");
        aggregates.MapGet("/{id}", Show).RequirePolicy("os_compute_api:os-aggregates:show");
        aggregates.MapPut("/{id}", Update).RequirePolicy("os_compute_api:os-aggregates:update");
        aggregates.MapDelete("/{id}", Delete).RequirePolicy("os_compute_api:os-aggregates:delete");
        aggregates.MapPost("/{id}/action", Action);
        return aggregates;
    }

    static string Time(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    static JsonObject View(HttpContext http, Aggregate a, bool full = true)
    {
        var metadata = JsonNode.Parse(a.MetadataJson)!.AsObject();
        var o = new JsonObject
        {
            ["availability_zone"] = metadata["availability_zone"]?.DeepClone(),
            ["created_at"] = Time(a.CreatedAt),
            ["deleted"] = false,
            ["deleted_at"] = null,
            ["id"] = a.Id,
            ["name"] = a.Name,
            ["updated_at"] = a.UpdatedAt is { } u ? Time(u) : null,
        };
        if (Microversion.Of(http).AtLeast(41)) o["uuid"] = a.Uuid;
        if (full)
        {
            o["hosts"] = JsonNode.Parse(a.HostsJson);
            o["metadata"] = metadata;
        }
        return o;
    }

    static async Task<Aggregate> FindAsync(ApiDb db, string id, CancellationToken ct)
    {
        if (!int.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) throw OpenStackError.BadRequest($"id must be an integer, not '{id}'.");
        return await db.Aggregates.FirstOrDefaultAsync(a => a.Id == n, ct) ?? throw OpenStackError.NotFound($"Aggregate {id} could not be found.");
    }

    static string Name(JsonObject body, string key, bool required)
    {
        var node = body[key];
        if (node is null) return required ? throw NovaBody.Invalid("aggregate", body, $"'{key}' is a required property") : null!;
        if (node.GetValueKind() != System.Text.Json.JsonValueKind.String) throw NovaBody.Invalid(key, node, "is not of type 'string'");
        var name = ((string)node!).Trim();
        if (name.Length == 0) throw NovaBody.Invalid(key, node, "is too short");
        if (name.Length > 255) throw NovaBody.Invalid(key, node, "is too long");
        return name;
    }

    static async Task<IResult> List(HttpContext http, ApiDb db, CancellationToken ct)
    {
        var list = await db.Aggregates.OrderBy(a => a.Id).ToListAsync(ct);
        return new JsonResponse(new JsonObject { ["aggregates"] = new JsonArray([.. list.Select(a => (JsonNode)View(http, a))]) });
    }

    static async Task<IResult> Show(string id, HttpContext http, ApiDb db, CancellationToken ct)
    {
        return new JsonResponse(new JsonObject { ["aggregate"] = View(http, await FindAsync(db, id, ct)) });
    }

    static async Task<IResult> Create(HttpContext http, ApiDb db, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("aggregate");
        body.Only("aggregate", "name", "availability_zone");
        var name = Name(body, "name", true);
        var zone = body["availability_zone"] is null ? null : Name(body, "availability_zone", false);
        if (await db.Aggregates.AnyAsync(a => a.Name == name, ct)) throw OpenStackError.Conflict($"Aggregate {name} already exists.");
        var aggregate = new Aggregate
        {
            Uuid = Guid.NewGuid().ToString(), Name = name, CreatedAt = DateTime.UtcNow,
            MetadataJson = zone is null ? "{}" : new JsonObject { ["availability_zone"] = zone }.ToJsonString(),
        };
        db.Aggregates.Add(aggregate);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["aggregate"] = View(http, aggregate, full: false) });
    }

    static async Task<IResult> Update(string id, HttpContext http, ApiDb db, CellDb cells, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("aggregate");
        body.Only("aggregate", "name", "availability_zone");
        if (body.Count == 0) throw NovaBody.Invalid("aggregate", body, "does not have enough properties");
        var aggregate = await FindAsync(db, id, ct);
        if (body.ContainsKey("name"))
        {
            var name = Name(body, "name", true);
            if (name != aggregate.Name && await db.Aggregates.AnyAsync(a => a.Name == name, ct)) throw OpenStackError.Conflict($"Aggregate {name} already exists.");
            aggregate.Name = name;
        }
        if (body.ContainsKey("availability_zone"))
        {
            var metadata = JsonNode.Parse(aggregate.MetadataJson)!.AsObject();
            await SetZoneAsync(db, cells, aggregate, metadata, body["availability_zone"] is null ? null : Name(body, "availability_zone", false), ct);
            aggregate.MetadataJson = metadata.ToJsonString();
        }
        aggregate.UpdatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["aggregate"] = View(http, aggregate) });
    }

    /// <summary>A zone change must not move servers (Nova refuses it for hosts with instances) nor put a host in two zones.</summary>
    static async Task SetZoneAsync(ApiDb db, CellDb cells, Aggregate aggregate, JsonObject metadata, string? zone, CancellationToken ct)
    {
        var old = (string?)metadata["availability_zone"];
        if (old == zone) return;
        var hosts = JsonNode.Parse(aggregate.HostsJson)!.AsArray().Select(h => (string)h!).ToList();
        if (hosts.Count > 0 && await cells.Instances.AnyAsync(i => !i.Deleted && i.Host != null && hosts.Contains(i.Host), ct))
            throw OpenStackError.BadRequest($"Cannot update aggregate {aggregate.Id}. Reason: One or more hosts contain instances in this zone.");
        foreach (var other in await db.Aggregates.Where(a => a.Id != aggregate.Id).ToListAsync(ct))
            if (zone is not null && (string?)JsonNode.Parse(other.MetadataJson)?["availability_zone"] is { } z && z != zone
                && JsonNode.Parse(other.HostsJson)!.AsArray().Any(h => hosts.Contains((string)h!)))
                throw OpenStackError.BadRequest($"Cannot update aggregate {aggregate.Id}. Reason: One or more hosts already in availability zone(s) [{z}].");
        if (zone is null) metadata.Remove("availability_zone");
        else metadata["availability_zone"] = zone;
    }

    static async Task<IResult> Delete(string id, HttpContext http, ApiDb db, CancellationToken ct)
    {
        var aggregate = await FindAsync(db, id, ct);
        if (JsonNode.Parse(aggregate.HostsJson)!.AsArray().Count > 0)
            throw OpenStackError.BadRequest($"Cannot remove aggregate {id}. Reason: Host aggregate is not empty.");
        db.Aggregates.Remove(aggregate);
        await db.SaveChangesAsync(ct);
        return Results.Ok();
    }

    static async Task<IResult> Action(string id, HttpContext http, ApiDb db, CellDb cells, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (body.Count != 1) throw OpenStackError.BadRequest("Exactly one action is expected in the body.");
        var (name, args) = body.First();
        http.Enforce($"os_compute_api:os-aggregates:{name switch { "add_host" => "add_host", "remove_host" => "remove_host", _ => "set_metadata" }}");
        if (name is not ("add_host" or "remove_host" or "set_metadata")) throw OpenStackError.BadRequest($"There is no such action: {name}");
        if (args is not JsonObject a) throw NovaBody.Invalid(name, args, "is not of type 'object'");
        var aggregate = await FindAsync(db, id, ct);
        var hosts = JsonNode.Parse(aggregate.HostsJson)!.AsArray().Select(h => (string)h!).ToList();
        var metadata = JsonNode.Parse(aggregate.MetadataJson)!.AsObject();
        switch (name)
        {
            case "add_host":
            {
                a.Only(name, "host");
                var host = Name(a, "host", true);
                if (!await cells.Services.AnyAsync(s => s.Host == host && s.Binary == NovaOptions.Compute, ct))
                    throw OpenStackError.NotFound($"Compute host {host} could not be found.");
                if (hosts.Contains(host)) throw OpenStackError.Conflict($"Aggregate {id} already has host {host}.");
                if ((string?)metadata["availability_zone"] is { } zone)
                    foreach (var other in await db.Aggregates.Where(x => x.Id != aggregate.Id).ToListAsync(ct))
                        if ((string?)JsonNode.Parse(other.MetadataJson)?["availability_zone"] is { } z && z != zone
                            && JsonNode.Parse(other.HostsJson)!.AsArray().Any(h => (string?)h == host))
                            throw OpenStackError.BadRequest($"Cannot add host to aggregate {id}. Reason: One or more hosts already in availability zone(s) ['{z}'].");
                hosts.Add(host);
                break;
            }
            case "remove_host":
            {
                a.Only(name, "host");
                var host = Name(a, "host", true);
                if (!hosts.Remove(host)) throw OpenStackError.NotFound($"Cannot remove host {host} in aggregate {id}");
                break;
            }
            default:
            {
                a.Only(name, "metadata");
                if (a["metadata"] is not JsonObject changes) throw NovaBody.Invalid("metadata", a["metadata"], "is not of type 'object'");
                foreach (var (key, value) in changes)
                {
                    if (key.Length is 0 or > 255) throw NovaBody.Invalid("metadata", changes, $"'{key}' does not match any of the regexes");
                    if (value is not null && (value.GetValueKind() != System.Text.Json.JsonValueKind.String || ((string)value!).Length > 255))
                        throw NovaBody.Invalid("metadata/" + key, value, "is not of type 'string', 'null'");
                    if (key == "availability_zone") await SetZoneAsync(db, cells, aggregate, metadata, (string?)value, ct);
                    else if (value is null) metadata.Remove(key);
                    else metadata[key] = (string)value!;
                }
                break;
            }
        }
        aggregate.HostsJson = new JsonArray([.. hosts.Select(h => (JsonNode)h)]).ToJsonString();
        aggregate.MetadataJson = metadata.ToJsonString();
        aggregate.UpdatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["aggregate"] = View(http, aggregate) });
    }
}
