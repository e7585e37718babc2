namespace Stratus.BlockStorage.Api;

/// <summary><c>/types</c>: volume types with their extra specs (what the scheduler matches, volume_backend_name) and project access.</summary>
public static class TypesApi
{
    /// <summary>The extra specs a non-admin may read (Cinder's user-visible ones).</summary>
    static readonly string[] UserVisibleSpecs = ["multiattach", "RESKEY:availability_zones", "replication_enabled"];

    public static void MapTypes(this RouteGroupBuilder project)
    {
        var types = project.MapGroup("/types");
        types.MapGet("", List);
        types.MapGet("/default", ShowDefault).From(62);
        types.MapGet("/{id}", Show);
        types.MapPost("", Create);
        types.MapPut("/{id}", Update);
        types.MapDelete("/{id}", Delete);
        types.MapGet("/{id}/extra_specs", ListSpecs);
        types.MapPost("/{id}/extra_specs", CreateSpecs);
        types.MapGet("/{id}/extra_specs/{key}", ShowSpec);
        types.MapPut("/{id}/extra_specs/{key}", UpdateSpec);
        types.MapDelete("/{id}/extra_specs/{key}", DeleteSpec);
        types.MapGet("/{id}/os-volume-type-access", ListAccess);
        types.MapPost("/{id}/action", Action);
    }

    public static async Task<VolumeType> DefaultAsync(CinderStore store, CinderOptions options, CancellationToken ct) =>
        await store.TypeByNameAsync(options.DefaultVolumeType, ct)
        ?? throw new OpenStackError(500, "Internal Server Error", $"Default volume type {options.DefaultVolumeType} could not be found: fix [DEFAULT] default_volume_type.");

    static async Task<bool> VisibleAsync(HttpContext http, CinderDb db, VolumeType t, CancellationToken ct) =>
        t.IsPublic || http.IsAdmin() || await db.VolumeTypeAccess.AnyAsync(a => a.VolumeTypeId == t.Id && a.ProjectId == http.Caller().ProjectId, ct);

    /// <summary>A type the caller may use, by id or name (Cinder's get_by_name_or_id); 404 otherwise.</summary>
    public static async Task<VolumeType> FindByNameOrIdAsync(HttpContext http, CinderStore store, string nameOrId, CancellationToken ct)
    {
        var t = await store.TypeAsync(nameOrId, ct) ?? await store.TypeByNameAsync(nameOrId, ct);
        return t is not null && (t.IsPublic || http.IsAdmin() || await store.HasTypeAccessAsync(t.Id, http.Caller().ProjectId, ct)) ? t : throw OpenStackError.NotFound($"Volume type with name {nameOrId} could not be found.");
    }

    static async Task<VolumeType> FindAsync(HttpContext http, CinderDb db, string id, CancellationToken ct)
    {
        var t = await db.VolumeTypes.FirstOrDefaultAsync(x => x.Id == id, ct);
        return t is not null && await VisibleAsync(http, db, t, ct) ? t : throw OpenStackError.NotFound($"Volume type {id} could not be found.");
    }

    /// <param name="shown">Show and list add the access flag and, for admins, the QoS specs; create has the flag only, update neither.</param>
    static JsonObject View(HttpContext http, VolumeType t, string shown = "show", string? qosSpecsId = null)
    {
        var specs = MetadataColumn.Read(t.ExtraSpecs);
        if (!http.IsAdmin()) specs = specs.Where(p => UserVisibleSpecs.Contains(p.Key)).ToDictionary(StringComparer.Ordinal);
        var o = new JsonObject
        {
            ["id"] = t.Id,
            ["name"] = t.Name,
            ["description"] = t.Description,
            ["is_public"] = t.IsPublic,
            ["extra_specs"] = MetadataColumn.View(MetadataColumn.Write(specs)),
        };
        if (shown == "show" && http.IsAdmin()) o["qos_specs_id"] = qosSpecsId;
        if (shown != "update") o["os-volume-type-access:is_public"] = t.IsPublic;
        return o;
    }

    static async Task<IResult> List(HttpContext http, CinderDb db, CinderOptions options, CancellationToken ct)
    {
        http.Enforce("volume_extension:type_get_all");
        var isPublic = http.Request.Query["is_public"].FirstOrDefault()?.ToLowerInvariant();
        var qos = await db.VolumeTypeQos.AsNoTracking().ToDictionaryAsync(a => a.VolumeTypeId, a => a.QosSpecsId, ct);
        var list = new JsonArray();
        foreach (var t in await db.VolumeTypes.AsNoTracking().OrderBy(t => t.Name).ToListAsync(ct))
        {
            // Admins list public types unless they ask for private ones too (Cinder's is_public=None).
            var show = isPublic switch
            {
                "none" => http.IsAdmin() || await VisibleAsync(http, db, t, ct),
                "false" or "0" => !t.IsPublic && await VisibleAsync(http, db, t, ct),
                _ => t.IsPublic || (!http.IsAdmin() && await VisibleAsync(http, db, t, ct)),
            };
            if (show) list.Add(View(http, t, qosSpecsId: qos.GetValueOrDefault(t.Id)));
        }
        return new JsonResponse(new JsonObject { ["volume_types"] = list });
    }

    static async Task<IResult> ShowDefault(HttpContext http, CinderDb db, CinderStore store, CinderOptions options, CancellationToken ct)
    {
        http.Enforce("volume_extension:type_get");
        return await ShowAsync(http, db, await DefaultAsync(store, options, ct), ct);
    }

    static async Task<IResult> Show(string id, HttpContext http, CinderDb db, CinderStore store, CinderOptions options, CancellationToken ct)
    {
        http.Enforce("volume_extension:type_get");
        var t = id == "default" ? await DefaultAsync(store, options, ct) : await FindAsync(http, db, id, ct);
        return await ShowAsync(http, db, t, ct);
    }

    static async Task<IResult> ShowAsync(HttpContext http, CinderDb db, VolumeType t, CancellationToken ct)
    {
        var qos = await db.VolumeTypeQos.AsNoTracking().Where(a => a.VolumeTypeId == t.Id).Select(a => a.QosSpecsId).FirstOrDefaultAsync(ct);
        return new JsonResponse(new JsonObject { ["volume_type"] = View(http, t, qosSpecsId: qos) });
    }

    static string Name(JsonObject body, bool required)
    {
        var node = body["name"];
        if (node is null) return required ? throw CinderApi.Invalid("volume_type", body, "'name' is a required property") : "";
        var name = body.OptionalString("name", allowEmpty: true) ?? "";
        if (name.Trim().Length == 0) throw CinderApi.Invalid("name", node, $"'{name}' is too short");
        return name.Trim();
    }

    static async Task<IResult> Create(HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:type_create");
        var body = await http.BodyAsync("volume_type");
        var name = Name(body, required: true);
        var specs = body.ContainsKey("extra_specs") ? CinderApi.Metadata(body, "extra_specs") : [];
        var t = new VolumeType
        {
            Name = name,
            Description = body.OptionalString("description", allowEmpty: true),
            IsPublic = !body.ContainsKey("os-volume-type-access:is_public") || CinderApi.Bool(body, "os-volume-type-access:is_public"),
            ExtraSpecs = MetadataColumn.Write(specs),
        };
        if (await db.VolumeTypes.AnyAsync(x => x.Name == name, ct)) throw OpenStackError.Conflict($"Volume Type {name} already exists.");
        db.VolumeTypes.Add(t);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["volume_type"] = View(http, t, "create") });
    }

    static async Task<IResult> Update(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:type_update");
        var t = await FindAsync(http, db, id, ct);
        var body = await http.BodyAsync("volume_type");
        if (!body.ContainsKey("name") && !body.ContainsKey("description") && !body.ContainsKey("is_public"))
            throw OpenStackError.BadRequest("Invalid input received: Specify volume type name, description, is_public or a combination thereof.");
        if (body.ContainsKey("name"))
        {
            var name = Name(body, required: false);
            if (name != t.Name && await db.VolumeTypes.AnyAsync(x => x.Name == name, ct)) throw OpenStackError.Conflict($"Volume Type {name} already exists.");
            if (t.Name == CinderOptions.DefaultTypeName) throw OpenStackError.BadRequest("Invalid volume type: The __DEFAULT__ volume type cannot be renamed.");
            t.Name = name;
        }
        if (body.ContainsKey("description")) t.Description = body.OptionalString("description", allowEmpty: true);
        if (body.ContainsKey("is_public")) t.IsPublic = CinderApi.Bool(body, "is_public");
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["volume_type"] = View(http, t, "update") });
    }

    static async Task<IResult> Delete(string id, HttpContext http, CinderDb db, CinderOptions options, CancellationToken ct)
    {
        http.Enforce("volume_extension:type_delete");
        var t = await FindAsync(http, db, id, ct);
        if (t.Name == options.DefaultVolumeType || t.Name == CinderOptions.DefaultTypeName)
            throw OpenStackError.BadRequest("Invalid volume type: Default volume type can not be deleted.");
        if (await db.Volumes.AnyAsync(v => v.VolumeTypeId == t.Id, ct)) throw OpenStackError.BadRequest("Target volume type is still in use.");
        db.VolumeTypeAccess.RemoveRange(db.VolumeTypeAccess.Where(a => a.VolumeTypeId == t.Id));
        db.VolumeTypeQos.RemoveRange(db.VolumeTypeQos.Where(a => a.VolumeTypeId == t.Id));
        db.VolumeTypes.Remove(t);
        await db.SaveChangesAsync(ct);
        return Results.Accepted();
    }

    static async Task<IResult> ListSpecs(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:types_extra_specs:index");
        var t = await FindAsync(http, db, id, ct);
        return new JsonResponse(new JsonObject { ["extra_specs"] = View(http, t)["extra_specs"]!.DeepClone() });
    }

    static async Task<IResult> CreateSpecs(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:types_extra_specs:create");
        var t = await FindAsync(http, db, id, ct);
        var given = CinderApi.Metadata(await JsonBody.ReadObjectAsync(http.Request, ct), "extra_specs");
        await CheckNotInUseAsync(db, t, ct);
        var specs = MetadataColumn.Read(t.ExtraSpecs);
        foreach (var (k, v) in given) specs[k] = v;
        t.ExtraSpecs = MetadataColumn.Write(specs);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["extra_specs"] = MetadataColumn.View(MetadataColumn.Write(given)) });
    }

    static async Task<IResult> ShowSpec(string id, string key, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:types_extra_specs:show");
        var t = await FindAsync(http, db, id, ct);
        return View(http, t)["extra_specs"]![key] is { } value
            ? new JsonResponse(new JsonObject { [key] = value.DeepClone() })
            : throw OpenStackError.NotFound($"Volume Type {id} has no extra specs with key {key}.");
    }

    static async Task<IResult> UpdateSpec(string id, string key, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:types_extra_specs:update");
        var t = await FindAsync(http, db, id, ct);
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (!body.ContainsKey(key)) throw OpenStackError.BadRequest("Request body and URI mismatch");
        if (body.Count > 1) throw OpenStackError.BadRequest("Request body contains too many items");
        var value = CinderApi.Metadata(new JsonObject { ["spec"] = body.DeepClone() }, "spec")[key];
        await CheckNotInUseAsync(db, t, ct);
        var specs = MetadataColumn.Read(t.ExtraSpecs);
        specs[key] = value;
        t.ExtraSpecs = MetadataColumn.Write(specs);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { [key] = value });
    }

    static async Task<IResult> DeleteSpec(string id, string key, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:types_extra_specs:delete");
        var t = await FindAsync(http, db, id, ct);
        var specs = MetadataColumn.Read(t.ExtraSpecs);
        if (!specs.Remove(key)) throw OpenStackError.NotFound($"Volume Type {id} has no extra specs with key {key}.");
        await CheckNotInUseAsync(db, t, ct);
        t.ExtraSpecs = MetadataColumn.Write(specs);
        await db.SaveChangesAsync(ct);
        return Results.Accepted();
    }

    /// <summary>Cinder refuses to change the specs of a type that volumes use.</summary>
    static async Task CheckNotInUseAsync(CinderDb db, VolumeType t, CancellationToken ct)
    {
        if (await db.Volumes.AnyAsync(v => v.VolumeTypeId == t.Id, ct))
            throw OpenStackError.BadRequest($"Invalid volume type: Volume Type is currently in use.");
    }

    static async Task<IResult> ListAccess(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        http.Enforce("volume_extension:volume_type_access:get_all_for_type");
        var t = await FindAsync(http, db, id, ct);
        if (t.IsPublic) throw OpenStackError.NotFound("Access list not available for public volume types.");
        var access = await db.VolumeTypeAccess.AsNoTracking().Where(a => a.VolumeTypeId == t.Id).ToListAsync(ct);
        return new JsonResponse(new JsonObject
        {
            ["volume_type_access"] = new JsonArray([.. access.Select(a => (JsonNode)new JsonObject { ["volume_type_id"] = a.VolumeTypeId, ["project_id"] = a.ProjectId })]),
        });
    }

    static async Task<IResult> Action(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var add = body["addProjectAccess"] as JsonObject;
        var remove = body["removeProjectAccess"] as JsonObject;
        if (add is null && remove is null) throw OpenStackError.BadRequest("There is no such action: " + string.Join(",", body.Select(p => p.Key)));
        http.Enforce(add is not null ? "volume_extension:volume_type_access:addProjectAccess" : "volume_extension:volume_type_access:removeProjectAccess");
        var t = await FindAsync(http, db, id, ct);
        var project = (add ?? remove)!.OptionalString("project") ?? throw OpenStackError.BadRequest("Missing required element 'project' in request body.");
        if (t.IsPublic) throw OpenStackError.BadRequest("Invalid volume type: Type access modification is not applicable to public volume type.");
        var existing = await db.VolumeTypeAccess.FirstOrDefaultAsync(a => a.VolumeTypeId == t.Id && a.ProjectId == project, ct);
        if (add is not null)
        {
            if (existing is not null) throw OpenStackError.Conflict($"Volume type access for {t.Id} / {project} combination already exists.");
            db.VolumeTypeAccess.Add(new VolumeTypeAccess { VolumeTypeId = t.Id, ProjectId = project });
        }
        else db.VolumeTypeAccess.Remove(existing ?? throw OpenStackError.NotFound($"Volume type access not found for {t.Id} / {project} combination."));
        await db.SaveChangesAsync(ct);
        return Results.Accepted();
    }
}
