namespace Stratus.Image.Api;

/// <summary>
/// Glance's metadata definitions catalog (<c>/v2/metadefs</c>): namespaces and, in each, objects,
/// properties, tags and resource type associations. Reading follows visibility (public, or the
/// owner's); what a caller may do is Glance's metadef rules (changing needs metadef_admin by default).
/// </summary>
public static class MetadefsApi
{
    // What `glance-manage db_load_metadefs` registers as resource types.
    static readonly string[] ResourceTypes =
        ["OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor", "OS::Nova::Aggregate", "OS::Nova::Server", "OS::Trove::Instance", "OS::Glance::Snapshot"];
    static readonly DateTime Epoch = new(2014, 8, 28, 17, 13, 6, DateTimeKind.Utc);

    public static RouteGroupBuilder MapMetadefs(this RouteGroupBuilder v2)
    {
        var m = v2.MapGroup("/metadefs");
        m.MapGet("/resource_types", () => new JsonResponse(new JsonObject
        {
            ["resource_types"] = new JsonArray([.. ResourceTypes.Select(r => (JsonNode)new JsonObject
            {
                ["name"] = r, ["created_at"] = ImageView.Time(Epoch), ["updated_at"] = ImageView.Time(Epoch),
            })]),
        })).RequirePolicy("list_metadef_resource_types");
        m.MapGet("/namespaces", ListNamespaces).RequirePolicy("get_metadef_namespaces");
        m.MapPost("/namespaces", CreateNamespace).RequirePolicy("add_metadef_namespace");
        m.MapGet("/namespaces/{ns}", ShowNamespace).RequirePolicy("get_metadef_namespace");
        m.MapPut("/namespaces/{ns}", UpdateNamespace).RequirePolicy("modify_metadef_namespace");
        m.MapDelete("/namespaces/{ns}", DeleteNamespace).RequirePolicy("delete_metadef_namespace");

        m.MapGet("/namespaces/{ns}/objects", (string ns, HttpContext http, ImageDb db, CancellationToken ct) => ListItems(ns, "object", http, db, ct))
            .RequirePolicy("get_metadef_objects");
        m.MapPost("/namespaces/{ns}/objects", (string ns, HttpContext http, ImageDb db, CancellationToken ct) => CreateItem(ns, "object", null, http, db, ct))
            .RequirePolicy("add_metadef_object");
        m.MapGet("/namespaces/{ns}/properties", (string ns, HttpContext http, ImageDb db, CancellationToken ct) => ListItems(ns, "property", http, db, ct))
            .RequirePolicy("get_metadef_properties");
        m.MapPost("/namespaces/{ns}/properties", (string ns, HttpContext http, ImageDb db, CancellationToken ct) => CreateItem(ns, "property", null, http, db, ct))
            .RequirePolicy("add_metadef_property");
        m.MapGet("/namespaces/{ns}/tags", (string ns, HttpContext http, ImageDb db, CancellationToken ct) => ListItems(ns, "tag", http, db, ct))
            .RequirePolicy("get_metadef_tags");
        m.MapPost("/namespaces/{ns}/tags", CreateTags).RequirePolicy("add_metadef_tags");
        m.MapDelete("/namespaces/{ns}/tags", DeleteTags).RequirePolicy("delete_metadef_tags");
        m.MapPost("/namespaces/{ns}/tags/{name}", (string ns, string name, HttpContext http, ImageDb db, CancellationToken ct) => CreateItem(ns, "tag", name, http, db, ct))
            .RequirePolicy("add_metadef_tag");
        m.MapGet("/namespaces/{ns}/resource_types", (string ns, HttpContext http, ImageDb db, CancellationToken ct) => ListItems(ns, "resource_type", http, db, ct))
            .RequirePolicy("get_metadef_resource_type");
        m.MapPost("/namespaces/{ns}/resource_types", (string ns, HttpContext http, ImageDb db, CancellationToken ct) => CreateItem(ns, "resource_type", null, http, db, ct))
            .RequirePolicy("add_metadef_resource_type_association");
        // Glance has no PUT of one resource type association: replacing one is adding it again.
        foreach (var (path, kind, get, modify, delete) in new[]
        {
            ("objects", "object", "get_metadef_object", "modify_metadef_object", "delete_metadef_object"),
            ("properties", "property", "get_metadef_property", "modify_metadef_property", "remove_metadef_property"),
            ("tags", "tag", "get_metadef_tag", "modify_metadef_tag", "delete_metadef_tag"),
            ("resource_types", "resource_type", "get_metadef_resource_type", "add_metadef_resource_type_association", "remove_metadef_resource_type_association"),
        })
        {
            m.MapGet($"/namespaces/{{ns}}/{path}/{{name}}", (string ns, string name, HttpContext http, ImageDb db, CancellationToken ct) => ShowItem(ns, kind, name, http, db, ct))
                .RequirePolicy(get);
            m.MapPut($"/namespaces/{{ns}}/{path}/{{name}}", (string ns, string name, HttpContext http, ImageDb db, CancellationToken ct) => UpdateItem(ns, kind, name, http, db, ct))
                .RequirePolicy(modify);
            m.MapDelete($"/namespaces/{{ns}}/{path}/{{name}}", (string ns, string name, HttpContext http, ImageDb db, CancellationToken ct) => DeleteItem(ns, kind, name, http, db, ct))
                .RequirePolicy(delete);
        }
        return v2;
    }

    static bool CanSee(Caller caller, MetadefNamespace n) => caller.IsAdmin || n.Visibility == "public" || n.Owner == caller.ProjectId;

    static async Task<MetadefNamespace> FindAsync(string ns, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var n = await db.MetadefNamespaces.FindAsync([ns], ct);
        if (n is null || !CanSee(http.Caller(), n)) throw OpenStackError.NotFound($"Metadata definition namespace={ns} was not found.");
        return n;
    }

    static JsonObject Render(MetadefNamespace n) => new()
    {
        ["namespace"] = n.Namespace,
        ["display_name"] = n.DisplayName,
        ["description"] = n.Description,
        ["visibility"] = n.Visibility,
        ["protected"] = n.Protected,
        ["owner"] = n.Owner,
        ["created_at"] = ImageView.Time(n.CreatedAt),
        ["updated_at"] = ImageView.Time(n.UpdatedAt),
        ["schema"] = "/v2/schemas/metadefs/namespace",
        ["self"] = $"/v2/metadefs/namespaces/{n.Namespace}",
    };

    static async Task<IResult> ListNamespaces(HttpContext http, ImageDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var all = await db.MetadefNamespaces.OrderBy(n => n.Namespace).ToListAsync(ct);
        return new JsonResponse(new JsonObject
        {
            ["namespaces"] = new JsonArray([.. all.Where(n => CanSee(caller, n)).Select(n => (JsonNode)Render(n))]),
            ["first"] = "/v2/metadefs/namespaces",
            ["schema"] = "/v2/schemas/metadefs/namespaces",
        });
    }

    static async Task<IResult> ShowNamespace(string ns, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var n = await FindAsync(ns, http, db, ct);
        var body = Render(n);
        var items = await db.MetadefItems.Where(i => i.Namespace == ns).ToListAsync(ct);
        if (items.Any(i => i.Kind == "resource_type"))
            body["resource_type_associations"] = new JsonArray([.. items.Where(i => i.Kind == "resource_type").Select(i => JsonNode.Parse(i.Body))]);
        if (items.Any(i => i.Kind == "property"))
            body["properties"] = new JsonObject(items.Where(i => i.Kind == "property").Select(i => KeyValuePair.Create(i.Name, JsonNode.Parse(i.Body))));
        if (items.Any(i => i.Kind == "object"))
            body["objects"] = new JsonArray([.. items.Where(i => i.Kind == "object").Select(i => JsonNode.Parse(i.Body))]);
        if (items.Any(i => i.Kind == "tag"))
            body["tags"] = new JsonArray([.. items.Where(i => i.Kind == "tag").Select(i => JsonNode.Parse(i.Body))]);
        return new JsonResponse(body);
    }

    static async Task<IResult> CreateNamespace(HttpContext http, ImageDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var name = body.RequiredString("namespace", 80);
        if (await db.MetadefNamespaces.AnyAsync(n => n.Namespace == name, ct))
            throw OpenStackError.Conflict($"A metadata definition namespace with name={name} already exists.");
        var now = DateTime.UtcNow;
        var n = new MetadefNamespace { Namespace = name, Owner = (string?)body["owner"] ?? http.Caller().ProjectId, CreatedAt = now, UpdatedAt = now };
        Apply(n, body);
        db.MetadefNamespaces.Add(n);
        foreach (var rt in body["resource_type_associations"] as JsonArray ?? [])
            if (rt is JsonObject o) db.MetadefItems.Add(NewItem(name, "resource_type", ItemName(o, "name"), o, now));
        foreach (var o in (body["objects"] as JsonArray ?? []).OfType<JsonObject>()) db.MetadefItems.Add(NewItem(name, "object", ItemName(o, "name"), o, now));
        foreach (var o in (body["tags"] as JsonArray ?? []).OfType<JsonObject>()) db.MetadefItems.Add(NewItem(name, "tag", ItemName(o, "name"), o, now));
        foreach (var (key, value) in body["properties"] as JsonObject ?? [])
            if (value is JsonObject o) db.MetadefItems.Add(NewItem(name, "property", key, o, now));
        await db.SaveChangesAsync(ct);
        return new JsonResponse(Render(n), 201);
    }

    static void Apply(MetadefNamespace n, JsonObject body)
    {
        if (body.ContainsKey("display_name")) n.DisplayName = body.OptionalString("display_name", 80, allowEmpty: true);
        if (body.ContainsKey("description")) n.Description = body.OptionalString("description", 500, allowEmpty: true);
        if (body.OptionalString("visibility") is { } v)
            n.Visibility = v is "public" or "private" ? v : throw OpenStackError.BadRequest($"Invalid visibility '{v}': it must be public or private.");
        if (body.OptionalBool("protected") is { } p) n.Protected = p;
    }

    static async Task<IResult> UpdateNamespace(string ns, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var n = await FindAsync(ns, http, db, ct);
        if (body.OptionalString("namespace", 80) is { } rename && rename != ns)
            throw OpenStackError.BadRequest("Renaming a metadata definition namespace is not supported.");
        Apply(n, body);
        n.UpdatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        return new JsonResponse(Render(n));
    }

    static async Task<IResult> DeleteNamespace(string ns, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var n = await FindAsync(ns, http, db, ct);
        if (n.Protected) throw OpenStackError.Forbidden($"Namespace {ns} is protected and cannot be deleted.");
        db.MetadefItems.RemoveRange(db.MetadefItems.Where(i => i.Namespace == ns));
        db.MetadefNamespaces.Remove(n);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static string ItemName(JsonObject o, string key) => o.RequiredString(key, 255);

    static MetadefItem NewItem(string ns, string kind, string name, JsonObject body, DateTime now)
    {
        var shown = (JsonObject)body.DeepClone();
        shown["name"] = name;
        shown["created_at"] = ImageView.Time(now);
        shown["updated_at"] = ImageView.Time(now);
        if (kind == "object")
        {
            shown["schema"] = "/v2/schemas/metadefs/object";
            shown["self"] = $"/v2/metadefs/namespaces/{ns}/objects/{name}";
        }
        return new MetadefItem { Namespace = ns, Kind = kind, Name = name, Body = shown.ToJsonString(), CreatedAt = now, UpdatedAt = now };
    }

    static async Task<IResult> ListItems(string ns, string kind, HttpContext http, ImageDb db, CancellationToken ct)
    {
        await FindAsync(ns, http, db, ct);
        var items = await db.MetadefItems.Where(i => i.Namespace == ns && i.Kind == kind).OrderBy(i => i.Name).ToListAsync(ct);
        JsonObject body = kind switch
        {
            "object" => new() { ["objects"] = new JsonArray([.. items.Select(i => JsonNode.Parse(i.Body))]), ["schema"] = "v2/schemas/metadefs/objects" },
            "property" => new() { ["properties"] = new JsonObject(items.Select(i => KeyValuePair.Create(i.Name, JsonNode.Parse(i.Body)))) },
            "tag" => new() { ["tags"] = new JsonArray([.. items.Select(i => JsonNode.Parse(i.Body))]) },
            _ => new() { ["resource_type_associations"] = new JsonArray([.. items.Select(i => JsonNode.Parse(i.Body))]) },
        };
        return new JsonResponse(body);
    }

    static async Task<IResult> CreateItem(string ns, string kind, string? name, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var body = name is null ? await JsonBody.ReadObjectAsync(http.Request, ct) : new JsonObject();
        await FindAsync(ns, http, db, ct);
        name ??= ItemName(body, "name");
        if (kind == "resource_type" && !ResourceTypes.Contains(name)) throw OpenStackError.NotFound($"Resource type {name} was not found.");
        if (await db.MetadefItems.AnyAsync(i => i.Namespace == ns && i.Kind == kind && i.Name == name, ct))
            throw OpenStackError.Conflict($"A metadata definition {kind} with name={name} already exists in namespace={ns}.");
        var item = NewItem(ns, kind, name, body, DateTime.UtcNow);
        db.MetadefItems.Add(item);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(JsonNode.Parse(item.Body), 201);
    }

    static async Task<IResult> CreateTags(string ns, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        await FindAsync(ns, http, db, ct);
        var names = (body["tags"] as JsonArray ?? throw OpenStackError.BadRequest("'tags' is a required property"))
            .Select(t => t is JsonObject o ? ItemName(o, "name") : throw OpenStackError.BadRequest("Each tag must be an object with a name.")).ToList();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count) throw OpenStackError.Conflict("Duplicate tag names in the request.");
        // POST replaces the namespace's tags, as Glance does.
        db.MetadefItems.RemoveRange(db.MetadefItems.Where(i => i.Namespace == ns && i.Kind == "tag"));
        var now = DateTime.UtcNow;
        var items = names.Select(n => NewItem(ns, "tag", n, new JsonObject(), now)).ToList();
        db.MetadefItems.AddRange(items);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["tags"] = new JsonArray([.. items.Select(i => JsonNode.Parse(i.Body))]) }, 201);
    }

    static async Task<IResult> DeleteTags(string ns, HttpContext http, ImageDb db, CancellationToken ct)
    {
        await FindAsync(ns, http, db, ct);
        await db.MetadefItems.Where(i => i.Namespace == ns && i.Kind == "tag").ExecuteDeleteAsync(ct);
        return Results.NoContent();
    }

    static async Task<MetadefItem> FindItemAsync(string ns, string kind, string name, HttpContext http, ImageDb db, CancellationToken ct)
    {
        await FindAsync(ns, http, db, ct);
        return await db.MetadefItems.FindAsync([ns, kind, name], ct)
            ?? throw OpenStackError.NotFound($"Metadata definition {kind}={name} not found in namespace={ns}.");
    }

    static async Task<IResult> ShowItem(string ns, string kind, string name, HttpContext http, ImageDb db, CancellationToken ct) =>
        new JsonResponse(JsonNode.Parse((await FindItemAsync(ns, kind, name, http, db, ct)).Body));

    static async Task<IResult> UpdateItem(string ns, string kind, string name, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var item = await FindItemAsync(ns, kind, name, http, db, ct);
        var newName = body.OptionalString("name") ?? name;
        if (newName != name && await db.MetadefItems.AnyAsync(i => i.Namespace == ns && i.Kind == kind && i.Name == newName, ct))
            throw OpenStackError.Conflict($"A metadata definition {kind} with name={newName} already exists in namespace={ns}.");
        var updated = NewItem(ns, kind, newName, body, DateTime.UtcNow);
        updated.CreatedAt = item.CreatedAt;
        var shown = JsonNode.Parse(updated.Body)!.AsObject();
        shown["created_at"] = ImageView.Time(item.CreatedAt);
        updated.Body = shown.ToJsonString();
        db.MetadefItems.Remove(item);
        await db.SaveChangesAsync(ct);
        db.MetadefItems.Add(updated);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(shown);
    }

    static async Task<IResult> DeleteItem(string ns, string kind, string name, HttpContext http, ImageDb db, CancellationToken ct)
    {
        var item = await FindItemAsync(ns, kind, name, http, db, ct);
        db.MetadefItems.Remove(item);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
