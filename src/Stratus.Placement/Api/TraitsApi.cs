namespace Stratus.Placement.Api;

/// <summary><c>/traits</c> and <c>/resource_classes</c>: the standard names, and CUSTOM_ ones operators create.</summary>
public static class TraitsApi
{
    public static IEndpointRouteBuilder MapTraitsAndClasses(this IEndpointRouteBuilder app)
    {
        app.MapGet("/traits", ListTraits).RequirePolicy("placement:traits:list");
        app.MapGet("/traits/{name}", (string name, HttpContext http, PlacementDb db, CancellationToken ct) => ShowAsync(http, db, "trait", name, ct))
            .RequirePolicy("placement:traits:show");
        app.MapPut("/traits/{name}", (string name, HttpContext http, PlacementDb db, CancellationToken ct) => CreateAsync(http, db, "trait", name, ct))
            .RequirePolicy("placement:traits:update");
        app.MapDelete("/traits/{name}", (string name, HttpContext http, PlacementDb db, CancellationToken ct) => DeleteAsync(http, db, "trait", name, ct))
            .RequirePolicy("placement:traits:delete");
        app.MapGet("/resource_classes", ListClasses).RequirePolicy("placement:resource_classes:list");
        app.MapPost("/resource_classes", PostClass).RequirePolicy("placement:resource_classes:create");
        app.MapGet("/resource_classes/{name}", (string name, HttpContext http, PlacementDb db, CancellationToken ct) => ShowAsync(http, db, "rc", name, ct))
            .RequirePolicy("placement:resource_classes:show");
        app.MapPut("/resource_classes/{name}", (string name, HttpContext http, PlacementDb db, CancellationToken ct) => CreateAsync(http, db, "rc", name, ct))
            .RequirePolicy("placement:resource_classes:update");
        app.MapDelete("/resource_classes/{name}", (string name, HttpContext http, PlacementDb db, CancellationToken ct) => DeleteAsync(http, db, "rc", name, ct))
            .RequirePolicy("placement:resource_classes:delete");
        return app;
    }

    static JsonObject ClassView(string name) => new()
    {
        ["name"] = name,
        ["links"] = new JsonArray(new JsonObject { ["rel"] = "self", ["href"] = $"/resource_classes/{name}" }),
    };

    static async Task<IResult> ListTraits(HttpContext http, PlacementDb db, CancellationToken ct)
    {
        if (!http.AtLeast(6)) throw OpenStackError.NotFound("The resource could not be found.");
        var all = Names.StandardTraits.Concat(await db.CustomNames.Where(n => n.Kind == "trait").Select(n => n.Name).ToListAsync(ct));
        if (http.Request.Query["name"].FirstOrDefault() is { } filter)
        {
            if (filter.StartsWith("startswith:", StringComparison.Ordinal)) all = all.Where(t => t.StartsWith(filter[11..], StringComparison.Ordinal));
            else if (filter.StartsWith("in:", StringComparison.Ordinal)) all = all.Where(filter[3..].Split(',').Contains);
            else throw OpenStackError.BadRequest($"Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: \"{filter}\"");
        }
        if (http.Request.Query["associated"].FirstOrDefault() is { } associated)
        {
            var used = await db.ProviderTraits.Select(t => t.Trait).Distinct().ToListAsync(ct);
            all = associated.ToLowerInvariant() == "true" ? all.Where(used.Contains) : all.Where(t => !used.Contains(t));
        }
        return new JsonResponse(new JsonObject { ["traits"] = new JsonArray([.. all.Order(StringComparer.Ordinal).Select(t => (JsonNode)t)]) });
    }

    static async Task<IResult> ListClasses(HttpContext http, PlacementDb db, CancellationToken ct)
    {
        if (!http.AtLeast(2)) throw OpenStackError.NotFound("The resource could not be found.");
        var all = Names.StandardClasses.Concat(await db.CustomNames.Where(n => n.Kind == "rc").Select(n => n.Name).ToListAsync(ct));
        return new JsonResponse(new JsonObject { ["resource_classes"] = new JsonArray([.. all.Select(c => (JsonNode)ClassView(c))]) });
    }

    static async Task<IResult> PostClass(HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var name = (await JsonBody.ReadObjectAsync(http.Request, ct)).RequiredString("name");
        if (!Names.Custom().IsMatch(name)) throw OpenStackError.BadRequest($"JSON does not validate: '{name}' does not match '^CUSTOM_[A-Z0-9_]+$'");
        if (await Names.ClassExistsAsync(db, name, ct)) throw PlacementVersion.Conflict($"Conflicting resource class already exists: {name}");
        db.CustomNames.Add(new CustomName { Kind = "rc", Name = name });
        await db.SaveChangesAsync(ct);
        return new JsonResponse(null, 201).WithHeader("Location", $"/resource_classes/{name}");
    }

    static async Task<IResult> ShowAsync(HttpContext http, PlacementDb db, string kind, string name, CancellationToken ct)
    {
        var exists = kind == "rc" ? await Names.ClassExistsAsync(db, name, ct) : await Names.TraitExistsAsync(db, name, ct);
        if (!exists) throw OpenStackError.NotFound(kind == "rc" ? $"No such resource class {name}." : $"No such trait(s): {name}");
        return kind == "rc" ? new JsonResponse(ClassView(name)) : Results.NoContent();
    }

    /// <summary>PUT of a CUSTOM_ name: 201 when created, 204 when it was there (trait; resource class from 1.7).</summary>
    static async Task<IResult> CreateAsync(HttpContext http, PlacementDb db, string kind, string name, CancellationToken ct)
    {
        if (kind == "rc" && !http.AtLeast(7)) throw OpenStackError.MethodNotAllowed();
        if (!Names.Custom().IsMatch(name)) throw OpenStackError.BadRequest($"The {(kind == "rc" ? "resource class" : "trait")} name {name} must start with CUSTOM_ and use only A-Z, 0-9 and _.");
        var exists = kind == "rc" ? await Names.ClassExistsAsync(db, name, ct) : await Names.TraitExistsAsync(db, name, ct);
        if (exists) return kind == "rc" ? Results.NoContent() : Results.NoContent();
        db.CustomNames.Add(new CustomName { Kind = kind, Name = name });
        await db.SaveChangesAsync(ct);
        var path = kind == "rc" ? $"/resource_classes/{name}" : $"/traits/{name}";
        return new JsonResponse(null, 201).WithHeader("Location", path);
    }

    static async Task<IResult> DeleteAsync(HttpContext http, PlacementDb db, string kind, string name, CancellationToken ct)
    {
        if (kind == "rc" ? Names.StandardClasses.Contains(name) : Names.StandardTraits.Contains(name))
            throw OpenStackError.BadRequest($"Cannot delete standard {(kind == "rc" ? "resource class" : "trait")} {name}.");
        var custom = await db.CustomNames.FindAsync([kind, name], ct) ?? throw OpenStackError.NotFound($"No such {(kind == "rc" ? "resource class" : "trait")} {name}.");
        var inUse = kind == "rc"
            ? await db.Inventories.AnyAsync(i => i.ResourceClass == name, ct)
            : await db.ProviderTraits.AnyAsync(t => t.Trait == name, ct);
        if (inUse) throw PlacementVersion.Conflict($"{(kind == "rc" ? "Resource class" : "Trait")} {name} is in use.");
        db.CustomNames.Remove(custom);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
