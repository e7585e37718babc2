using System.Text.Json;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/qos-specs</c> (admin): QoS specs with a consumer (front-end, back-end or both) and key/value specs; set and unset
/// keys; associate with volume types (one QoS specs per type), list a specs' associations, disassociate one or all.
/// </summary>
public static class QosSpecsApi
{
    static readonly string[] Consumers = ["front-end", "back-end", "both"];

    public static void MapQosSpecs(this RouteGroupBuilder project)
    {
        var qos = project.MapGroup("/qos-specs");
        qos.MapGet("", List);
        qos.MapPost("", Create);
        qos.MapGet("/{id}", Show);
        qos.MapPut("/{id}", Update);
        qos.MapDelete("/{id}", Delete);
        qos.MapPut("/{id}/delete_keys", DeleteKeys);
        qos.MapGet("/{id}/associations", Associations);
        qos.MapGet("/{id}/associate", Associate);
        qos.MapGet("/{id}/disassociate", Disassociate);
        qos.MapGet("/{id}/disassociate_all", DisassociateAll);
    }

    static JsonObject View(QosSpecs q) => new()
    {
        ["id"] = q.Id,
        ["name"] = q.Name,
        ["consumer"] = q.Consumer,
        ["specs"] = MetadataColumn.View(q.Specs),
    };

    static async Task<QosSpecs> FindAsync(CinderDb db, string id, CancellationToken ct) =>
        await db.QosSpecs.FirstOrDefaultAsync(q => q.Id == id, ct) ?? throw OpenStackError.NotFound($"No such QoS spec {id}.");

    static readonly string[] SortKeys = ["id", "name", "consumer", "created_at"];

    static async Task<IResult> List(HttpContext http, CinderDb db, CinderOptions options, CancellationToken ct)
    {
        http.Enforce("volume_extension:qos_specs_manage:get_all");
        var q = http.Request.Query;
        var paging = Paging.Parse(http, options.OsapiMaxLimit, SortKeys);
        var rows = await db.QosSpecs.AsNoTracking().ToListAsync(ct);
        foreach (var field in new[] { "id", "name", "consumer" })
            if (q[field].FirstOrDefault() is { } wanted)
                rows = [.. rows.Where(r => (field == "id" ? r.Id : field == "name" ? r.Name : r.Consumer) == wanted)];
        var page = paging.Apply(rows, r => r.Id, (r, key) => key switch
        {
            "name" => r.Name,
            "consumer" => r.Consumer,
            "created_at" => r.CreatedAt,
            _ => null,
        }, "qos_specs");
        var body = new JsonObject { ["qos_specs"] = new JsonArray([.. page.Select(r => (JsonNode)View(r))]) };
        if (paging.NextLinks(http, page.Count, page.LastOrDefault()?.Id, "qos-specs") is { } links) body["qos_specs_links"] = links;
        return new JsonResponse(body);
    }

    static JsonResponse Detail(HttpContext http, QosSpecs q) =>
        new(new JsonObject { ["qos_specs"] = View(q), ["links"] = CinderApi.Links(http, "qos-specs", q.Id) });

    static async Task<IResult> Show(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:qos_specs_manage:get");
        return Detail(http, await FindAsync(db, id, ct));
    }

    /// <summary>The consumer, if given, out of the specs; Cinder's enum of consumers.</summary>
    static string? TakeConsumer(Dictionary<string, string> specs)
    {
        if (!specs.Remove("consumer", out var consumer)) return null;
        return Consumers.Contains(consumer) ? consumer
            : throw OpenStackError.BadRequest($"Invalid qos specs: Valid consumer of QoS specs are: ['{string.Join("', '", Consumers)}']");
    }

    static async Task<IResult> Create(HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:qos_specs_manage:create");
        var body = await http.BodyAsync("qos_specs");
        var nameNode = body["name"];
        if (nameNode is null) throw CinderApi.Invalid("qos_specs", body, "'name' is a required property");
        if (nameNode.GetValueKind() != JsonValueKind.String) throw CinderApi.Invalid("name", nameNode, $"{nameNode.ToJsonString()} is not of type 'string'");
        var name = nameNode.GetValue<string>().Trim();
        if (name.Length == 0) throw CinderApi.Invalid("name", nameNode, "The 'name' can not be empty.");
        if (name.Length > 255) throw CinderApi.Invalid("name", nameNode, $"'{name}' is too long");
        var rest = new JsonObject([.. body.Where(p => p.Key != "name").Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))]);
        var specs = CinderApi.Metadata(new JsonObject { ["qos_specs"] = rest }, "qos_specs");
        var q = new QosSpecs { Name = name, Consumer = TakeConsumer(specs) ?? "back-end", Specs = MetadataColumn.Write(specs), CreatedAt = http.Now() };
        if (await db.QosSpecs.AnyAsync(x => x.Name == name, ct)) throw OpenStackError.Conflict($"QoS Specs {name} already exists.");
        db.QosSpecs.Add(q);
        await db.SaveChangesAsync(ct);
        return Detail(http, q);
    }

    static async Task<IResult> Update(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:qos_specs_manage:update");
        var given = CinderApi.Metadata(await JsonBody.ReadObjectAsync(http.Request, ct), "qos_specs");
        var q = await FindAsync(db, id, ct);
        var specs = new Dictionary<string, string>(given, StringComparer.Ordinal);
        q.Consumer = TakeConsumer(specs) ?? q.Consumer;
        var current = MetadataColumn.Read(q.Specs);
        foreach (var (k, v) in specs) current[k] = v;
        q.Specs = MetadataColumn.Write(current);
        q.UpdatedAt = http.Now();
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["qos_specs"] = MetadataColumn.View(MetadataColumn.Write(given)) });
    }

    static async Task<IResult> Delete(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:qos_specs_manage:delete");
        var q = await FindAsync(db, id, ct);
        var force = http.Request.Query["force"].FirstOrDefault() is { } f && f.ToLowerInvariant() is "1" or "t" or "true" or "on" or "y" or "yes";
        var associations = await db.VolumeTypeQos.Where(a => a.QosSpecsId == id).ToListAsync(ct);
        if (associations.Count > 0 && !force) throw OpenStackError.BadRequest("Qos specs still in use.");
        db.VolumeTypeQos.RemoveRange(associations);
        db.QosSpecs.Remove(q);
        await db.SaveChangesAsync(ct);
        return Results.Accepted();
    }

    static async Task<IResult> DeleteKeys(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:qos_specs_manage:delete");
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (body["keys"] is not JsonArray keysNode)
            throw body.ContainsKey("keys") ? CinderApi.Invalid("keys", body["keys"], $"{body["keys"]?.ToJsonString() ?? "None"} is not of type 'array'")
                : OpenStackError.BadRequest("Invalid input for field/attribute keys. Value: None. 'keys' is a required property");
        var keys = new List<string>();
        foreach (var k in keysNode)
        {
            if (k?.GetValueKind() != JsonValueKind.String || k.GetValue<string>().Length is 0 or > 255)
                throw CinderApi.Invalid("keys", keysNode, $"{k?.ToJsonString() ?? "None"} is not a valid key");
            if (keys.Contains(k.GetValue<string>())) throw CinderApi.Invalid("keys", keysNode, $"{keysNode.ToJsonString()} has non-unique elements");
            keys.Add(k.GetValue<string>());
        }
        var q = await FindAsync(db, id, ct);
        var specs = MetadataColumn.Read(q.Specs);
        // Cinder saves the keys removed before the missing one, then answers 404.
        var missing = keys.FirstOrDefault(k => !specs.ContainsKey(k));
        foreach (var k in keys.TakeWhile(k => k != missing)) specs.Remove(k);
        q.Specs = MetadataColumn.Write(specs);
        q.UpdatedAt = http.Now();
        await db.SaveChangesAsync(ct);
        return missing is null ? Results.Accepted() : throw OpenStackError.NotFound($"QoS spec {id} has no spec with key {missing}.");
    }

    static async Task<IResult> Associations(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:qos_specs_manage:get_all");
        await FindAsync(db, id, ct);
        var types = await (from a in db.VolumeTypeQos.AsNoTracking()
                           join t in db.VolumeTypes.AsNoTracking() on a.VolumeTypeId equals t.Id
                           where a.QosSpecsId == id
                           orderby t.Name
                           select new { t.Id, t.Name }).ToListAsync(ct);
        return new JsonResponse(new JsonObject
        {
            ["qos_associations"] = new JsonArray([.. types.Select(t => (JsonNode)new JsonObject { ["association_type"] = "volume_type", ["name"] = t.Name, ["id"] = t.Id })]),
        });
    }

    /// <summary>The <c>vol_type_id</c> of the query, of an existing type.</summary>
    static async Task<VolumeType> QueryTypeAsync(HttpContext http, CinderDb db, CancellationToken ct)
    {
        var typeId = http.Request.Query["vol_type_id"].FirstOrDefault();
        if (string.IsNullOrEmpty(typeId)) throw OpenStackError.BadRequest("Volume Type id must not be None.");
        return await db.VolumeTypes.AsNoTracking().FirstOrDefaultAsync(t => t.Id == typeId, ct)
            ?? throw OpenStackError.NotFound($"Volume type {typeId} could not be found.");
    }

    static async Task<IResult> Associate(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:qos_specs_manage:update");
        var type = await QueryTypeAsync(http, db, ct);
        await FindAsync(db, id, ct);
        var existing = await db.VolumeTypeQos.FirstOrDefaultAsync(a => a.VolumeTypeId == type.Id, ct);
        if (existing is not null && existing.QosSpecsId != id)
            throw OpenStackError.BadRequest($"Invalid volume type: Type {type.Id} is already associated with another qos specs: {existing.QosSpecsId}");
        if (existing is null)
        {
            db.VolumeTypeQos.Add(new VolumeTypeQos { VolumeTypeId = type.Id, QosSpecsId = id });
            await db.SaveChangesAsync(ct);
        }
        return Results.Accepted();
    }

    static async Task<IResult> Disassociate(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:qos_specs_manage:update");
        var type = await QueryTypeAsync(http, db, ct);
        await FindAsync(db, id, ct);
        db.VolumeTypeQos.RemoveRange(db.VolumeTypeQos.Where(a => a.VolumeTypeId == type.Id && a.QosSpecsId == id));
        await db.SaveChangesAsync(ct);
        return Results.Accepted();
    }

    static async Task<IResult> DisassociateAll(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:qos_specs_manage:update");
        await FindAsync(db, id, ct);
        db.VolumeTypeQos.RemoveRange(db.VolumeTypeQos.Where(a => a.QosSpecsId == id));
        await db.SaveChangesAsync(ct);
        return Results.Accepted();
    }
}
