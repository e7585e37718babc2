using System.Globalization;

namespace Stratus.Placement.Api;

/// <summary>
/// <c>/resource_providers</c> and what hangs off one: inventories, usages, allocations, traits and
/// aggregates, each change guarded by the provider's generation (409 placement.concurrent_update).
/// </summary>
public static class ResourceProvidersApi
{
    public static RouteGroupBuilder MapResourceProviders(this IEndpointRouteBuilder app)
    {
        var rps = app.MapGroup("/resource_providers");
        rps.MapGet("", List).RequirePolicy("placement:resource_providers:list");
        rps.MapPost("", Create).RequirePolicy("placement:resource_providers:create");
        rps.MapGet("/{uuid}", Show).RequirePolicy("placement:resource_providers:show");
        rps.MapPut("/{uuid}", Update).RequirePolicy("placement:resource_providers:update");
        rps.MapDelete("/{uuid}", Delete).RequirePolicy("placement:resource_providers:delete");
        rps.MapGet("/{uuid}/inventories", ListInventories).RequirePolicy("placement:resource_providers:inventories:list");
        rps.MapPut("/{uuid}/inventories", ReplaceInventories).RequirePolicy("placement:resource_providers:inventories:update");
        rps.MapPost("/{uuid}/inventories", AddInventory).RequirePolicy("placement:resource_providers:inventories:create");
        rps.MapDelete("/{uuid}/inventories", DeleteInventories).RequirePolicy("placement:resource_providers:inventories:delete");
        rps.MapGet("/{uuid}/inventories/{rc}", ShowInventory).RequirePolicy("placement:resource_providers:inventories:show");
        rps.MapPut("/{uuid}/inventories/{rc}", UpdateInventory).RequirePolicy("placement:resource_providers:inventories:update");
        rps.MapDelete("/{uuid}/inventories/{rc}", DeleteInventory).RequirePolicy("placement:resource_providers:inventories:delete");
        rps.MapGet("/{uuid}/usages", Usages).RequirePolicy("placement:resource_providers:usages");
        rps.MapGet("/{uuid}/allocations", ProviderAllocations).RequirePolicy("placement:resource_providers:allocations:list");
        rps.MapGet("/{uuid}/traits", ListTraits).RequirePolicy("placement:resource_providers:traits:list");
        rps.MapPut("/{uuid}/traits", ReplaceTraits).RequirePolicy("placement:resource_providers:traits:update");
        rps.MapDelete("/{uuid}/traits", DeleteTraits).RequirePolicy("placement:resource_providers:traits:delete");
        rps.MapGet("/{uuid}/aggregates", ListAggregates).RequirePolicy("placement:resource_providers:aggregates:list");
        rps.MapPut("/{uuid}/aggregates", ReplaceAggregates).RequirePolicy("placement:resource_providers:aggregates:update");
        return rps;
    }

    public static async Task<ResourceProvider> FindAsync(PlacementDb db, string uuid, CancellationToken ct) =>
        await db.Providers.FirstOrDefaultAsync(p => p.Uuid == uuid, ct)
        ?? throw OpenStackError.NotFound($"No resource provider with uuid {uuid} found");

    public static JsonObject View(HttpContext http, ResourceProvider p)
    {
        var o = new JsonObject { ["uuid"] = p.Uuid, ["name"] = p.Name, ["generation"] = p.Generation };
        if (http.AtLeast(14)) { o["parent_provider_uuid"] = p.ParentUuid; o["root_provider_uuid"] = p.RootUuid; }
        var links = new JsonArray(
            new JsonObject { ["rel"] = "self", ["href"] = $"/resource_providers/{p.Uuid}" },
            new JsonObject { ["rel"] = "inventories", ["href"] = $"/resource_providers/{p.Uuid}/inventories" },
            new JsonObject { ["rel"] = "usages", ["href"] = $"/resource_providers/{p.Uuid}/usages" });
        if (http.AtLeast(1)) links.Add(new JsonObject { ["rel"] = "aggregates", ["href"] = $"/resource_providers/{p.Uuid}/aggregates" });
        if (http.AtLeast(6)) links.Add(new JsonObject { ["rel"] = "traits", ["href"] = $"/resource_providers/{p.Uuid}/traits" });
        if (http.AtLeast(11)) links.Add(new JsonObject { ["rel"] = "allocations", ["href"] = $"/resource_providers/{p.Uuid}/allocations" });
        o["links"] = links;
        return o;
    }

    /// <summary>A change to the provider: its generation must be the caller's, and moves on.</summary>
    public static void Bump(ResourceProvider p, long? expected)
    {
        if (expected is { } g && g != p.Generation)
            throw PlacementVersion.Conflict($"resource provider generation conflict: the resource provider {p.Uuid} has generation {p.Generation}, not {g}. Please update the generation and try again.",
                "placement.concurrent_update");
        p.Generation++;
        p.UpdatedAt = DateTime.UtcNow;
    }

    static long Generation(JsonObject body, string key = "resource_provider_generation") =>
        body[key] is JsonValue v && v.TryGetValue<long>(out var g) ? g : throw OpenStackError.BadRequest($"'{key}' is a required property");

    static async Task<IResult> List(HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var q = http.Request.Query;
        IQueryable<ResourceProvider> query = db.Providers;
        if (q["name"].FirstOrDefault() is { } name) query = query.Where(p => p.Name == name);
        if (q["uuid"].FirstOrDefault() is { } uuid) query = query.Where(p => p.Uuid == uuid);
        if (http.AtLeast(14) && q["in_tree"].FirstOrDefault() is { } tree)
        {
            var root = (await db.Providers.FirstOrDefaultAsync(p => p.Uuid == tree, ct))?.RootUuid ?? "";
            query = query.Where(p => p.RootUuid == root);
        }
        var providers = await query.OrderBy(p => p.Name).ToListAsync(ct);
        if (http.AtLeast(3) && q["member_of"].FirstOrDefault() is { } memberOf)
        {
            var aggregates = memberOf.StartsWith("in:", StringComparison.Ordinal) ? memberOf[3..].Split(',') : [memberOf];
            var members = await db.ProviderAggregates.Where(a => aggregates.Contains(a.Aggregate)).Select(a => a.ProviderUuid).ToListAsync(ct);
            providers = providers.Where(p => members.Contains(p.Uuid)).ToList();
        }
        if (http.AtLeast(6) && q["required"].FirstOrDefault() is { } required)
        {
            var traits = required.Split(',');
            var having = await db.ProviderTraits.ToListAsync(ct);
            providers = providers.Where(p => traits.All(t => t.StartsWith('!')
                ? !having.Any(h => h.ProviderUuid == p.Uuid && h.Trait == t[1..])
                : having.Any(h => h.ProviderUuid == p.Uuid && h.Trait == t))).ToList();
        }
        if (http.AtLeast(4) && q["resources"].FirstOrDefault() is { } resources)
        {
            var asked = AllocationsApi.ParseResources(resources);
            var fits = new List<ResourceProvider>();
            foreach (var p in providers)
                if (await AllocationsApi.FitsAsync(db, p.Uuid, asked, ct)) fits.Add(p);
            providers = fits;
        }
        return new JsonResponse(new JsonObject { ["resource_providers"] = new JsonArray([.. providers.Select(p => (JsonNode)View(http, p))]) });
    }

    static async Task<IResult> Create(HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var name = body.RequiredString("name", 200);
        var uuid = body.OptionalString("uuid") ?? Guid.NewGuid().ToString();
        if (!Guid.TryParse(uuid, out _)) throw OpenStackError.BadRequest($"JSON does not validate: '{uuid}' is not a 'uuid'");
        var parent = http.AtLeast(14) ? body.OptionalString("parent_provider_uuid") : null;
        var root = uuid;
        if (parent is not null)
            root = (await db.Providers.FirstOrDefaultAsync(p => p.Uuid == parent, ct))?.RootUuid
                ?? throw OpenStackError.BadRequest($"parent provider UUID {parent} does not exist.");
        if (await db.Providers.AnyAsync(p => p.Name == name, ct))
            throw PlacementVersion.Conflict($"Conflicting resource provider name: {name} already exists.", "placement.duplicate_name");
        if (await db.Providers.AnyAsync(p => p.Uuid == uuid, ct))
            throw PlacementVersion.Conflict($"Conflicting resource provider uuid: {uuid} already exists.");
        var now = DateTime.UtcNow;
        var rp = new ResourceProvider { Uuid = uuid, Name = name, ParentUuid = parent, RootUuid = root, CreatedAt = now, UpdatedAt = now };
        db.Providers.Add(rp);
        await db.SaveChangesAsync(ct);
        var location = $"/resource_providers/{uuid}";
        return http.AtLeast(20)
            ? new JsonResponse(View(http, rp), 200).WithHeader("Location", location)
            : new JsonResponse(null, 201).WithHeader("Location", location);
    }

    static async Task<IResult> Show(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        return new JsonResponse(View(http, await FindAsync(db, uuid, ct)));
    }

    static async Task<IResult> Update(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var rp = await FindAsync(db, uuid, ct);
        var name = body.RequiredString("name", 200);
        if (name != rp.Name && await db.Providers.AnyAsync(p => p.Name == name, ct))
            throw PlacementVersion.Conflict($"Conflicting resource provider name: {name} already exists.", "placement.duplicate_name");
        rp.Name = name;
        if (http.AtLeast(14) && body.ContainsKey("parent_provider_uuid"))
        {
            var parent = body.OptionalString("parent_provider_uuid");
            if (rp.ParentUuid is not null && parent != rp.ParentUuid && !http.AtLeast(37))
                throw OpenStackError.BadRequest("re-parenting a provider is not currently allowed.");
            if (parent is not null && parent != rp.ParentUuid)
            {
                var p = await FindAsync(db, parent, ct);
                rp.ParentUuid = parent;
                rp.RootUuid = p.RootUuid;
            }
        }
        rp.UpdatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        return new JsonResponse(View(http, rp));
    }

    static async Task<IResult> Delete(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var rp = await FindAsync(db, uuid, ct);
        if (await db.Allocations.AnyAsync(a => a.ProviderUuid == uuid, ct))
            throw PlacementVersion.Conflict($"Unable to delete resource provider {uuid}: Resource provider has allocations.", "placement.inventory.inuse");
        if (await db.Providers.AnyAsync(p => p.ParentUuid == uuid, ct))
            throw PlacementVersion.Conflict($"Unable to delete parent resource provider {uuid}: It has child resource providers.", "placement.resource_provider.cannot_delete_parent");
        db.Inventories.RemoveRange(db.Inventories.Where(i => i.ProviderUuid == uuid));
        db.ProviderTraits.RemoveRange(db.ProviderTraits.Where(i => i.ProviderUuid == uuid));
        db.ProviderAggregates.RemoveRange(db.ProviderAggregates.Where(i => i.ProviderUuid == uuid));
        db.Providers.Remove(rp);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static JsonObject InventoryView(Inventory i) => new()
    {
        ["total"] = i.Total, ["reserved"] = i.Reserved, ["min_unit"] = i.MinUnit, ["max_unit"] = i.MaxUnit, ["step_size"] = i.StepSize,
        ["allocation_ratio"] = i.AllocationRatio,
    };

    static async Task<JsonObject> InventoriesAsync(PlacementDb db, ResourceProvider rp, CancellationToken ct) => new()
    {
        ["resource_provider_generation"] = rp.Generation,
        ["inventories"] = new JsonObject((await db.Inventories.Where(i => i.ProviderUuid == rp.Uuid).ToListAsync(ct))
            .OrderBy(i => i.ResourceClass).Select(i => KeyValuePair.Create(i.ResourceClass, (JsonNode?)InventoryView(i)))),
    };

    static async Task<IResult> ListInventories(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        return new JsonResponse(await InventoriesAsync(db, await FindAsync(db, uuid, ct), ct));
    }

    /// <summary>Reads one inventory record, checking it as placement's schema does.</summary>
    static Inventory ParseInventory(string uuid, string rc, JsonObject o)
    {
        long Field(string key, long fallback, long min)
        {
            if (o[key] is null) return fallback;
            if (o[key] is not JsonValue v || !v.TryGetValue<long>(out var n) || n < min)
                throw OpenStackError.BadRequest($"JSON does not validate: {key} must be an integer >= {min}");
            return n;
        }
        var total = Field("total", -1, 1);
        if (total < 0) throw OpenStackError.BadRequest("JSON does not validate: 'total' is a required property");
        var inv = new Inventory
        {
            ProviderUuid = uuid, ResourceClass = rc, Total = total, Reserved = Field("reserved", 0, 0), MinUnit = Field("min_unit", 1, 1),
            MaxUnit = Field("max_unit", total, 1), StepSize = Field("step_size", 1, 1),
            AllocationRatio = o["allocation_ratio"] is JsonValue r && double.TryParse(r.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) && ratio > 0 ? ratio : o["allocation_ratio"] is null ? 1.0
                : throw OpenStackError.BadRequest("JSON does not validate: allocation_ratio must be a number > 0"),
        };
        if (inv.MinUnit > inv.MaxUnit) throw OpenStackError.BadRequest($"Unable to update inventory for resource provider {uuid}: min_unit must be <= max_unit");
        return inv;
    }

    static async Task CheckClassAsync(PlacementDb db, string rc, CancellationToken ct)
    {
        if (!await Names.ClassExistsAsync(db, rc, ct)) throw OpenStackError.BadRequest($"Unknown resource class in inventory for resource provider: {rc}");
    }

    /// <summary>An inventory that would leave existing allocations without room is refused (placement.inventory.inuse).</summary>
    static async Task CheckInUseAsync(PlacementDb db, string uuid, IReadOnlyDictionary<string, Inventory> next, CancellationToken ct)
    {
        var used = await db.Allocations.Where(a => a.ProviderUuid == uuid).GroupBy(a => a.ResourceClass)
            .Select(g => new { Class = g.Key, Used = g.Sum(a => a.Used) }).ToListAsync(ct);
        foreach (var u in used.Where(u => u.Used > 0))
        {
            if (!next.TryGetValue(u.Class, out var inv))
                throw PlacementVersion.Conflict($"Inventory for '{u.Class}' on resource provider '{uuid}' in use.", "placement.inventory.inuse");
            if (u.Used > inv.Capacity)
                throw PlacementVersion.Conflict($"Unable to update inventory for resource provider {uuid}: capacity of {u.Class} would be less than the {u.Used} in use.",
                    "placement.inventory.inuse");
        }
    }

    static async Task<IResult> ReplaceInventories(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var rp = await FindAsync(db, uuid, ct);
        var generation = Generation(body);
        var inventories = body["inventories"] as JsonObject ?? throw OpenStackError.BadRequest("JSON does not validate: 'inventories' is a required property");
        var next = new Dictionary<string, Inventory>();
        foreach (var (rc, value) in inventories)
        {
            await CheckClassAsync(db, rc, ct);
            next[rc] = ParseInventory(uuid, rc, value as JsonObject ?? throw OpenStackError.BadRequest($"JSON does not validate: the inventory of {rc} must be an object"));
        }
        await CheckInUseAsync(db, uuid, next, ct);
        Bump(rp, generation);
        db.Inventories.RemoveRange(db.Inventories.Where(i => i.ProviderUuid == uuid));
        db.Inventories.AddRange(next.Values);
        await SaveAsync(db, rp, ct);
        return new JsonResponse(await InventoriesAsync(db, rp, ct));
    }

    /// <summary>Saves, turning a lost race on the generation into placement's 409.</summary>
    public static async Task SaveAsync(PlacementDb db, ResourceProvider rp, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw PlacementVersion.Conflict($"resource provider generation conflict on {rp.Uuid}: another request changed it. Please update the generation and try again.",
                "placement.concurrent_update");
        }
    }

    static async Task<IResult> AddInventory(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var rp = await FindAsync(db, uuid, ct);
        var rc = body.RequiredString("resource_class");
        await CheckClassAsync(db, rc, ct);
        if (await db.Inventories.AnyAsync(i => i.ProviderUuid == uuid && i.ResourceClass == rc, ct))
            throw PlacementVersion.Conflict($"Update conflict: Inventory for {rc} on resource provider {uuid} already exists.");
        var inv = ParseInventory(uuid, rc, body);
        Bump(rp, Generation(body));
        db.Inventories.Add(inv);
        await SaveAsync(db, rp, ct);
        var view = InventoryView(inv);
        view["resource_provider_generation"] = rp.Generation;
        return new JsonResponse(view, 201).WithHeader("Location", $"/resource_providers/{uuid}/inventories/{rc}");
    }

    static async Task<IResult> DeleteInventories(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        if (!http.AtLeast(5)) throw OpenStackError.MethodNotAllowed();
        var rp = await FindAsync(db, uuid, ct);
        await CheckInUseAsync(db, uuid, new Dictionary<string, Inventory>(), ct);
        Bump(rp, null);
        db.Inventories.RemoveRange(db.Inventories.Where(i => i.ProviderUuid == uuid));
        await SaveAsync(db, rp, ct);
        return Results.NoContent();
    }

    static async Task<IResult> ShowInventory(string uuid, string rc, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var rp = await FindAsync(db, uuid, ct);
        var inv = await db.Inventories.FirstOrDefaultAsync(i => i.ProviderUuid == uuid && i.ResourceClass == rc, ct)
            ?? throw OpenStackError.NotFound($"No inventory of class {rc} for {uuid}");
        var view = InventoryView(inv);
        view["resource_provider_generation"] = rp.Generation;
        return new JsonResponse(view);
    }

    static async Task<IResult> UpdateInventory(string uuid, string rc, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var rp = await FindAsync(db, uuid, ct);
        await CheckClassAsync(db, rc, ct);
        var inv = ParseInventory(uuid, rc, body);
        var all = (await db.Inventories.Where(i => i.ProviderUuid == uuid).ToListAsync(ct)).ToDictionary(i => i.ResourceClass);
        var existing = all.GetValueOrDefault(rc);
        if (existing is null && !http.AtLeast(26)) throw OpenStackError.BadRequest($"No inventory record with resource class for resource provider {uuid}");
        all[rc] = inv;
        await CheckInUseAsync(db, uuid, all, ct);
        Bump(rp, Generation(body));
        if (existing is not null) db.Inventories.Remove(existing);
        db.Inventories.Add(inv);
        await SaveAsync(db, rp, ct);
        var view = InventoryView(inv);
        view["resource_provider_generation"] = rp.Generation;
        return new JsonResponse(view);
    }

    static async Task<IResult> DeleteInventory(string uuid, string rc, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var rp = await FindAsync(db, uuid, ct);
        var inv = await db.Inventories.FirstOrDefaultAsync(i => i.ProviderUuid == uuid && i.ResourceClass == rc, ct)
            ?? throw OpenStackError.NotFound($"No inventory of class {rc} found for delete");
        if (await db.Allocations.AnyAsync(a => a.ProviderUuid == uuid && a.ResourceClass == rc, ct))
            throw PlacementVersion.Conflict($"Inventory for '{rc}' on resource provider '{uuid}' in use.", "placement.inventory.inuse");
        Bump(rp, null);
        db.Inventories.Remove(inv);
        await SaveAsync(db, rp, ct);
        return Results.NoContent();
    }

    static async Task<IResult> Usages(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var rp = await FindAsync(db, uuid, ct);
        var classes = await db.Inventories.Where(i => i.ProviderUuid == uuid).Select(i => i.ResourceClass).ToListAsync(ct);
        var used = await db.Allocations.Where(a => a.ProviderUuid == uuid).ToListAsync(ct);
        return new JsonResponse(new JsonObject
        {
            ["resource_provider_generation"] = rp.Generation,
            ["usages"] = new JsonObject(classes.Order().Select(rc => KeyValuePair.Create(rc, (JsonNode?)used.Where(a => a.ResourceClass == rc).Sum(a => a.Used)))),
        });
    }

    static async Task<IResult> ProviderAllocations(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var rp = await FindAsync(db, uuid, ct);
        var allocations = await db.Allocations.Where(a => a.ProviderUuid == uuid).ToListAsync(ct);
        return new JsonResponse(new JsonObject
        {
            ["resource_provider_generation"] = rp.Generation,
            ["allocations"] = new JsonObject(allocations.GroupBy(a => a.ConsumerUuid).Select(g => KeyValuePair.Create(g.Key, (JsonNode?)new JsonObject
            {
                ["resources"] = new JsonObject(g.Select(a => KeyValuePair.Create(a.ResourceClass, (JsonNode?)a.Used))),
            }))),
        });
    }

    static async Task<IResult> ListTraits(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var rp = await FindAsync(db, uuid, ct);
        var traits = await db.ProviderTraits.Where(t => t.ProviderUuid == uuid).Select(t => t.Trait).OrderBy(t => t).ToListAsync(ct);
        return new JsonResponse(new JsonObject { ["resource_provider_generation"] = rp.Generation, ["traits"] = new JsonArray([.. traits.Select(t => (JsonNode)t)]) });
    }

    static async Task<IResult> ReplaceTraits(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var rp = await FindAsync(db, uuid, ct);
        var generation = Generation(body);
        var traits = (body["traits"] as JsonArray ?? throw OpenStackError.BadRequest("JSON does not validate: 'traits' is a required property"))
            .Select(t => (string?)t ?? throw OpenStackError.BadRequest("JSON does not validate: traits must be strings")).Distinct().ToList();
        foreach (var t in traits)
            if (!await Names.TraitExistsAsync(db, t, ct)) throw OpenStackError.BadRequest($"No such trait(s): {t}");
        Bump(rp, generation);
        db.ProviderTraits.RemoveRange(db.ProviderTraits.Where(t => t.ProviderUuid == uuid));
        db.ProviderTraits.AddRange(traits.Select(t => new ProviderTrait { ProviderUuid = uuid, Trait = t }));
        await SaveAsync(db, rp, ct);
        return new JsonResponse(new JsonObject { ["resource_provider_generation"] = rp.Generation, ["traits"] = new JsonArray([.. traits.Order().Select(t => (JsonNode)t)]) });
    }

    static async Task<IResult> DeleteTraits(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var rp = await FindAsync(db, uuid, ct);
        Bump(rp, null);
        db.ProviderTraits.RemoveRange(db.ProviderTraits.Where(t => t.ProviderUuid == uuid));
        await SaveAsync(db, rp, ct);
        return Results.NoContent();
    }

    static async Task<JsonObject> AggregatesAsync(HttpContext http, PlacementDb db, ResourceProvider rp, CancellationToken ct)
    {
        var aggregates = await db.ProviderAggregates.Where(a => a.ProviderUuid == rp.Uuid).Select(a => a.Aggregate).OrderBy(a => a).ToListAsync(ct);
        var o = new JsonObject { ["aggregates"] = new JsonArray([.. aggregates.Select(a => (JsonNode)a)]) };
        if (http.AtLeast(19)) o["resource_provider_generation"] = rp.Generation;
        return o;
    }

    static async Task<IResult> ListAggregates(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        if (!http.AtLeast(1)) throw OpenStackError.NotFound("The resource could not be found.");
        return new JsonResponse(await AggregatesAsync(http, db, await FindAsync(db, uuid, ct), ct));
    }

    static async Task<IResult> ReplaceAggregates(string uuid, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        if (!http.AtLeast(1)) throw OpenStackError.NotFound("The resource could not be found.");
        var rp = await FindAsync(db, uuid, ct);
        JsonArray list;
        long? generation = null;
        if (http.AtLeast(19))
        {
            var body = await JsonBody.ReadObjectAsync(http.Request, ct);
            generation = Generation(body);
            list = body["aggregates"] as JsonArray ?? throw OpenStackError.BadRequest("JSON does not validate: 'aggregates' is a required property");
        }
        else
        {
            list = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: ct) as JsonArray
                ?? throw OpenStackError.BadRequest("JSON does not validate: the body must be a list of aggregate uuids");
        }
        var aggregates = list.Select(a => (string?)a).ToList();
        if (aggregates.Any(a => a is null || !Guid.TryParse(a, out _))) throw OpenStackError.BadRequest("JSON does not validate: aggregates must be uuids");
        Bump(rp, generation);
        db.ProviderAggregates.RemoveRange(db.ProviderAggregates.Where(a => a.ProviderUuid == uuid));
        db.ProviderAggregates.AddRange(aggregates.Distinct().Select(a => new ProviderAggregate { ProviderUuid = uuid, Aggregate = a! }));
        await SaveAsync(db, rp, ct);
        return new JsonResponse(await AggregatesAsync(http, db, rp, ct));
    }
}
