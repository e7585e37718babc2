namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/group_types</c> (3.11): the types of generic volume groups with their group specs; admins create, update and
/// delete them, everyone lists the public ones. <c>/group_types/default</c> is <c>[DEFAULT] default_group_type</c>.
/// </summary>
public static class GroupTypesApi
{
    public static void MapGroupTypes(this RouteGroupBuilder project)
    {
        var types = project.MapGroup("/group_types");
        types.MapGet("", List).From(11);
        types.MapGet("/{id}", Show).From(11);
        types.MapPost("", Create).From(11);
        types.MapPut("/{id}", Update).From(11);
        types.MapDelete("/{id}", Delete).From(11);
        types.MapGet("/{id}/group_specs", ListSpecs).From(11);
        types.MapPost("/{id}/group_specs", CreateSpecs).From(11);
        types.MapGet("/{id}/group_specs/{key}", ShowSpec).From(11);
        types.MapPut("/{id}/group_specs/{key}", UpdateSpec).From(11);
        types.MapDelete("/{id}/group_specs/{key}", DeleteSpec).From(11);
    }

    /// <summary>A group type the caller may use: public, or any for an admin; 404 otherwise.</summary>
    public static async Task<GroupType> FindAsync(HttpContext http, CinderDb db, string id, CancellationToken ct)
    {
        var t = await db.GroupTypes.FirstOrDefaultAsync(x => x.Id == id, ct);
        return t is not null && (t.IsPublic || http.IsAdmin()) ? t : throw OpenStackError.NotFound($"Group type {id} could not be found.");
    }

    static JsonObject View(HttpContext http, GroupType t)
    {
        var o = new JsonObject { ["id"] = t.Id, ["name"] = t.Name, ["description"] = t.Description, ["is_public"] = t.IsPublic };
        if (http.IsAllowed("group:access_group_types_specs")) o["group_specs"] = MetadataColumn.View(t.GroupSpecs);
        return o;
    }

    static readonly string[] SortKeys = ["id", "name", "created_at", "is_public", "description"];

    static async Task<IResult> List(HttpContext http, CinderDb db, CinderOptions options, CancellationToken ct)
    {
        var paging = Paging.Parse(http, options.OsapiMaxLimit, SortKeys);
        // Admins filter by is_public (absent or "none": all); others see the public types only.
        bool? isPublic = true;
        if (http.IsAdmin())
            isPublic = http.Request.Query["is_public"].FirstOrDefault()?.ToLowerInvariant() switch
            {
                null or "none" => null,
                "true" or "t" or "1" or "yes" or "y" or "on" => true,
                "false" or "f" or "0" or "no" or "n" or "off" => false,
                var other => throw OpenStackError.BadRequest($"Invalid is_public filter [{other}]"),
            };
        var rows = await db.GroupTypes.AsNoTracking().Where(t => isPublic == null || t.IsPublic == isPublic).ToListAsync(ct);
        var page = paging.Apply(rows, t => t.Id, (t, key) => key switch
        {
            "name" => t.Name,
            "created_at" => t.CreatedAt,
            "is_public" => t.IsPublic,
            "description" => t.Description,
            _ => null,
        }, "group_types");
        var result = new JsonObject { ["group_types"] = new JsonArray([.. page.Select(t => (JsonNode)View(http, t))]) };
        if (paging.NextLinks(http, page.Count, page.LastOrDefault()?.Id, "group_types") is { } links) result["group_type_links"] = links;
        return new JsonResponse(result);
    }

    static async Task<IResult> Show(string id, HttpContext http, CinderDb db, CinderOptions options, CancellationToken ct)
    {
        GroupType t;
        if (id == "default")
            t = options.DefaultGroupType is { } name && await db.GroupTypes.FirstOrDefaultAsync(x => x.Name == name, ct) is { } found
                ? found : throw OpenStackError.NotFound("Default group type can not be found.");
        else t = await FindAsync(http, db, id, ct);
        return new JsonResponse(new JsonObject { ["group_type"] = View(http, t) });
    }

    /// <summary>Cinder's <c>name</c> format: 1-255 characters, no leading or trailing whitespace.</summary>
    static string Name(JsonObject body)
    {
        var name = body.OptionalString("name", allowEmpty: true) ?? "";
        if (name.Length == 0 || name.Trim() != name)
            throw CinderApi.Invalid("name", body["name"], $"'{name}' {(name.Length == 0 ? "is too short" : "is not a 'name'")}");
        return name;
    }

    static async Task<IResult> Create(HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("group:group_types:create");
        var body = await http.BodyAsync("group_type");
        CinderApi.NoOtherKeys("group_type", body, ["name", "description", "is_public", "group_specs"]);
        if (!body.ContainsKey("name")) throw CinderApi.Invalid("group_type", body, "'name' is a required property");
        var name = Name(body);
        var t = new GroupType
        {
            Name = name,
            Description = body.OptionalString("description", allowEmpty: true),
            IsPublic = !body.ContainsKey("is_public") || CinderApi.Bool(body, "is_public"),
            GroupSpecs = MetadataColumn.Write(body["group_specs"] is null ? [] : CinderApi.Metadata(body, "group_specs")),
            CreatedAt = http.Now(),
        };
        if (await db.GroupTypes.AnyAsync(x => x.Name == name, ct)) throw OpenStackError.Conflict($"Group Type {name} already exists.");
        db.GroupTypes.Add(t);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["group_type"] = View(http, t) }, 202);
    }

    static async Task<IResult> Update(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("group:group_types:update");
        var body = await http.BodyAsync("group_type");
        CinderApi.NoOtherKeys("group_type", body, ["name", "description", "is_public"]);
        var t = await FindAsync(http, db, id, ct);
        var name = body.OptionalString("name", allowEmpty: true);
        var description = body.OptionalString("description", allowEmpty: true);
        bool? isPublic = body["is_public"] is null ? null : CinderApi.Bool(body, "is_public");
        if (name is not null && name.Trim().Length == 0) throw OpenStackError.BadRequest("Group type name can not be empty.");
        if (name is null && description is null && isPublic is null)
            throw OpenStackError.BadRequest("Specify group type name, description or a combination thereof.");
        if (name is not null)
        {
            if (name != t.Name && await db.GroupTypes.AnyAsync(x => x.Name == name, ct)) throw OpenStackError.Conflict($"Group Type {name} already exists.");
            t.Name = name;
        }
        if (description is not null) t.Description = description;
        if (isPublic is { } p) t.IsPublic = p;
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["group_type"] = View(http, t) });
    }

    static async Task<IResult> Delete(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("group:group_types:delete");
        var t = await FindAsync(http, db, id, ct);
        if (await db.Groups.AnyAsync(g => g.GroupTypeId == t.Id, ct)) throw OpenStackError.BadRequest("Target group type is still in use.");
        db.GroupTypes.Remove(t);
        await db.SaveChangesAsync(ct);
        return Results.Accepted();
    }

    static async Task<IResult> ListSpecs(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("group:group_types_specs:get_all");
        var t = await FindAsync(http, db, id, ct);
        return new JsonResponse(new JsonObject { ["group_specs"] = MetadataColumn.View(t.GroupSpecs) });
    }

    /// <summary>Cinder's group specs: keys of <c>[a-zA-Z0-9-_:.]{1,255}</c>, values strings of up to 255 (null is kept as "").</summary>
    static Dictionary<string, string> Specs(JsonObject specs, string field)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in specs)
        {
            if (k.Length is 0 or > 255 || !k.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or ':' or '.'))
                throw CinderApi.Invalid(field, specs, $"Additional properties are not allowed ('{k}' was unexpected)");
            if (v is not null && v.GetValueKind() != System.Text.Json.JsonValueKind.String) throw CinderApi.Invalid($"{field}/{k}", v, $"{v.ToJsonString()} is not of type 'string', 'null'");
            var s = v?.GetValue<string>() ?? "";
            if (s.Length > 255) throw CinderApi.Invalid($"{field}/{k}", v, $"'{s}' is too long");
            d[k] = s;
        }
        return d;
    }

    static async Task<IResult> CreateSpecs(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("group:group_types_specs:create");
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (body["group_specs"] is not JsonObject given) throw CinderApi.Invalid("group_specs", body["group_specs"], "'group_specs' is a required property");
        var extra = body.Select(p => p.Key).Where(k => k != "group_specs").ToList();
        if (extra.Count > 0) throw OpenStackError.BadRequest($"Invalid input received: Additional properties are not allowed ('{extra[0]}' was unexpected)");
        var specs = Specs(given, "group_specs");
        var t = await FindAsync(http, db, id, ct);
        var all = MetadataColumn.Read(t.GroupSpecs);
        foreach (var (k, v) in specs) all[k] = v;
        t.GroupSpecs = MetadataColumn.Write(all);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["group_specs"] = given.DeepClone() }, 202);
    }

    static async Task<IResult> ShowSpec(string id, string key, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("group:group_types_specs:get");
        var t = await FindAsync(http, db, id, ct);
        return MetadataColumn.Read(t.GroupSpecs).TryGetValue(key, out var value)
            ? new JsonResponse(new JsonObject { [key] = value })
            : throw OpenStackError.NotFound($"Group Type {id} has no extra spec with key {key}.");
    }

    static async Task<IResult> UpdateSpec(string id, string key, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("group:group_types_specs:update");
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (body.Count != 1) throw CinderApi.Invalid("group_specs", body, body.Count == 0 ? "{} does not have enough properties" : $"{body.ToJsonString()} has too many properties");
        var specs = Specs(body, "group_specs");
        var t = await FindAsync(http, db, id, ct);
        if (!specs.ContainsKey(key)) throw OpenStackError.BadRequest("Request body and URI mismatch");
        var all = MetadataColumn.Read(t.GroupSpecs);
        all[key] = specs[key];
        t.GroupSpecs = MetadataColumn.Write(all);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(body.DeepClone());
    }

    static async Task<IResult> DeleteSpec(string id, string key, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("group:group_types_specs:delete");
        var t = await FindAsync(http, db, id, ct);
        var all = MetadataColumn.Read(t.GroupSpecs);
        if (!all.Remove(key)) throw OpenStackError.NotFound($"Group Type {id} has no specs with key {key}.");
        t.GroupSpecs = MetadataColumn.Write(all);
        await db.SaveChangesAsync(ct);
        return Results.Accepted();
    }
}
