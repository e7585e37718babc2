using System.Globalization;

namespace Stratus.Placement.Api;

/// <summary>
/// Allocations (who holds what where), with capacity checks and consumer generations; allocation
/// candidates (which single providers could hold a request, with what is left there); usages by project.
/// </summary>
public static class AllocationsApi
{
    // Allocation writes check capacity then write: one at a time, so two claims cannot both fit the last room.
    static readonly SemaphoreSlim Writes = new(1, 1);

    public static IEndpointRouteBuilder MapAllocations(this IEndpointRouteBuilder app)
    {
        app.MapGet("/allocations/{consumer}", Show).RequirePolicy("placement:allocations:list");
        app.MapPut("/allocations/{consumer}", Replace).RequirePolicy("placement:allocations:update");
        app.MapDelete("/allocations/{consumer}", Delete).RequirePolicy("placement:allocations:delete");
        app.MapPost("/allocations", ReplaceMany).RequirePolicy("placement:allocations:manage");
        app.MapGet("/allocation_candidates", Candidates).RequirePolicy("placement:allocation_candidates:list");
        app.MapGet("/usages", ProjectUsages).RequirePolicy("placement:usages");
        return app;
    }

    public static Dictionary<string, long> ParseResources(string text)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split(':');
            if (kv.Length != 2 || !long.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
                throw OpenStackError.BadRequest($"Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: {text}.");
            if (!result.TryAdd(kv[0], n)) throw OpenStackError.BadRequest($"Badly formed resources parameter: {kv[0]} appears twice.");
        }
        if (result.Count == 0) throw OpenStackError.BadRequest("Badly formed resources parameter: it is empty.");
        return result;
    }

    /// <summary>Whether the provider has room for <paramref name="asked"/> (ignoring allocations of <paramref name="except"/>).</summary>
    public static async Task<bool> FitsAsync(PlacementDb db, string provider, IReadOnlyDictionary<string, long> asked, CancellationToken ct, string? except = null) =>
        await ProblemAsync(db, provider, asked, except, ct) is null;

    static async Task<string?> ProblemAsync(PlacementDb db, string provider, IReadOnlyDictionary<string, long> asked, string? except, CancellationToken ct)
    {
        var inventories = await db.Inventories.Where(i => i.ProviderUuid == provider).ToListAsync(ct);
        var used = await db.Allocations.Where(a => a.ProviderUuid == provider && a.ConsumerUuid != except)
            .GroupBy(a => a.ResourceClass).Select(g => new { g.Key, Used = g.Sum(a => a.Used) }).ToDictionaryAsync(u => u.Key, u => u.Used, ct);
        return Problem(provider, inventories, used, asked);
    }

    /// <summary>Why <paramref name="asked"/> does not fit the provider's inventories given what is <paramref name="used"/>; null when it fits.</summary>
    static string? Problem(string provider, IEnumerable<Inventory> inventories, IReadOnlyDictionary<string, long> used, IReadOnlyDictionary<string, long> asked)
    {
        var byClass = inventories.ToDictionary(i => i.ResourceClass);
        foreach (var (rc, amount) in asked)
        {
            if (!byClass.TryGetValue(rc, out var inv)) return $"Inventory for '{rc}' on resource provider '{provider}' not found.";
            if (amount < inv.MinUnit || amount > inv.MaxUnit || amount % inv.StepSize != 0)
                return $"Unable to allocate inventory: Unable to create allocation for '{rc}' on resource provider '{provider}'. The requested amount would violate inventory constraints.";
            if (used.GetValueOrDefault(rc) + amount > inv.Capacity)
                return $"Unable to allocate inventory: Unable to create allocation for '{rc}' on resource provider '{provider}'. The requested amount would exceed the capacity.";
        }
        return null;
    }

    static async Task<JsonObject> ViewAsync(HttpContext http, PlacementDb db, string consumer, CancellationToken ct)
    {
        var allocations = await db.Allocations.Where(a => a.ConsumerUuid == consumer).ToListAsync(ct);
        var providers = await db.Providers.Where(p => allocations.Select(a => a.ProviderUuid).Contains(p.Uuid)).ToDictionaryAsync(p => p.Uuid, ct);
        var o = new JsonObject
        {
            ["allocations"] = new JsonObject(allocations.GroupBy(a => a.ProviderUuid).Select(g => KeyValuePair.Create(g.Key, (JsonNode?)new JsonObject
            {
                ["generation"] = providers.GetValueOrDefault(g.Key)?.Generation,
                ["resources"] = new JsonObject(g.Select(a => KeyValuePair.Create(a.ResourceClass, (JsonNode?)a.Used))),
            }))),
        };
        if (http.AtLeast(12) && allocations.Count > 0 && await db.Consumers.FindAsync([consumer], ct) is { } c)
        {
            o["project_id"] = c.ProjectId;
            o["user_id"] = c.UserId;
            if (http.AtLeast(28)) o["consumer_generation"] = c.Generation;
            if (http.AtLeast(38)) o["consumer_type"] = c.ConsumerType;
        }
        return o;
    }

    static async Task<IResult> Show(string consumer, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        return new JsonResponse(await ViewAsync(http, db, consumer, ct));
    }

    static async Task<IResult> Replace(string consumer, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        await Writes.WaitAsync(ct);
        try
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await ApplyAsync(http, db, consumer, body, ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        finally
        {
            Writes.Release();
        }
        return Results.NoContent();
    }

    static async Task<IResult> ReplaceMany(HttpContext http, PlacementDb db, CancellationToken ct)
    {
        if (!http.AtLeast(13)) throw OpenStackError.MethodNotAllowed();
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        await Writes.WaitAsync(ct);
        try
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            foreach (var (consumer, value) in body)
                await ApplyAsync(http, db, consumer, value as JsonObject ?? throw OpenStackError.BadRequest($"JSON does not validate: allocations of {consumer} must be an object"), ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        finally
        {
            Writes.Release();
        }
        return Results.NoContent();
    }

    /// <summary>Replaces a consumer's allocations (an empty set removes them), checking capacity and generations.</summary>
    static async Task ApplyAsync(HttpContext http, PlacementDb db, string consumer, JsonObject body, CancellationToken ct)
    {
        if (!Guid.TryParse(consumer, out _)) throw OpenStackError.BadRequest($"JSON does not validate: '{consumer}' is not a 'uuid'");
        var wanted = new Dictionary<string, Dictionary<string, long>>();
        switch (body["allocations"])
        {
            case JsonObject byProvider:
                foreach (var (provider, value) in byProvider)
                {
                    var resources = value?["resources"] as JsonObject ?? throw OpenStackError.BadRequest("JSON does not validate: 'resources' is a required property");
                    wanted[provider] = resources.ToDictionary(r => r.Key, r => r.Value is JsonValue v && v.TryGetValue<long>(out var n) && n >= 1 ? n
                        : throw OpenStackError.BadRequest($"JSON does not validate: the amount of {r.Key} must be an integer >= 1"));
                }
                break;
            case JsonArray legacy when !http.AtLeast(12):
                foreach (var item in legacy.OfType<JsonObject>())
                    wanted[(string)item["resource_provider"]!["uuid"]!] = (item["resources"] as JsonObject ?? [])
                        .ToDictionary(r => r.Key, r => (long)r.Value!);
                break;
            default:
                throw OpenStackError.BadRequest("JSON does not validate: 'allocations' is a required property");
        }
        var existing = await db.Consumers.FindAsync([consumer], ct);
        if (http.AtLeast(28))
        {
            if (!body.ContainsKey("consumer_generation")) throw OpenStackError.BadRequest("JSON does not validate: 'consumer_generation' is a required property");
            var expected = body["consumer_generation"] is JsonValue g ? g.GetValue<long>() : (long?)null;
            if (existing is null && expected is not null || existing is not null && expected != existing.Generation)
                throw PlacementVersion.Conflict($"consumer generation conflict - expected {(expected?.ToString(CultureInfo.InvariantCulture) ?? "null")} but got {(existing?.Generation.ToString(CultureInfo.InvariantCulture) ?? "null")}",
                    "placement.concurrent_update");
        }
        db.Allocations.RemoveRange(await db.Allocations.Where(a => a.ConsumerUuid == consumer).ToListAsync(ct));
        if (wanted.Count == 0)
        {
            if (existing is not null) db.Consumers.Remove(existing);
            return;
        }
        var project = body.OptionalString("project_id") ?? (http.AtLeast(8) ? throw OpenStackError.BadRequest("JSON does not validate: 'project_id' is a required property") : http.Caller().ProjectId!);
        var user = body.OptionalString("user_id") ?? (http.AtLeast(8) ? throw OpenStackError.BadRequest("JSON does not validate: 'user_id' is a required property") : http.Caller().UserId);
        foreach (var (provider, resources) in wanted)
        {
            var rp = await db.Providers.FirstOrDefaultAsync(p => p.Uuid == provider, ct)
                ?? throw OpenStackError.BadRequest($"Allocation for resource provider '{provider}' that does not exist.");
            foreach (var rc in resources.Keys)
                if (!await Names.ClassExistsAsync(db, rc, ct)) throw OpenStackError.BadRequest($"Unknown resource class in allocation: {rc}");
            if (await ProblemAsync(db, provider, resources, consumer, ct) is { } problem) throw PlacementVersion.Conflict(problem);
            foreach (var (rc, used) in resources) db.Allocations.Add(new Allocation { ProviderUuid = provider, ConsumerUuid = consumer, ResourceClass = rc, Used = used });
            rp.Generation++;
        }
        if (existing is null)
            db.Consumers.Add(new Consumer { Uuid = consumer, ProjectId = project, UserId = user, Generation = 1, ConsumerType = body.OptionalString("consumer_type") ?? "INSTANCE" });
        else
        {
            existing.ProjectId = project;
            existing.UserId = user;
            existing.Generation++;
        }
    }

    static async Task<IResult> Delete(string consumer, HttpContext http, PlacementDb db, CancellationToken ct)
    {
        await Writes.WaitAsync(ct);
        try
        {
            var allocations = await db.Allocations.Where(a => a.ConsumerUuid == consumer).ToListAsync(ct);
            if (allocations.Count == 0) throw OpenStackError.NotFound($"No allocations for consumer '{consumer}'");
            foreach (var rp in await db.Providers.Where(p => allocations.Select(a => a.ProviderUuid).Contains(p.Uuid)).ToListAsync(ct)) rp.Generation++;
            db.Allocations.RemoveRange(allocations);
            if (await db.Consumers.FindAsync([consumer], ct) is { } c) db.Consumers.Remove(c);
            await db.SaveChangesAsync(ct);
        }
        finally
        {
            Writes.Release();
        }
        return Results.NoContent();
    }

    /// <summary>Single providers that can hold the whole request, with their traits and what is used of each class.</summary>
    static async Task<IResult> Candidates(HttpContext http, PlacementDb db, CancellationToken ct)
    {
        if (!http.AtLeast(10)) throw OpenStackError.NotFound("The resource could not be found.");
        var q = http.Request.Query;
        var asked = ParseResources(q["resources"].FirstOrDefault() ?? throw OpenStackError.BadRequest("'resources' is a required property"));
        foreach (var rc in asked.Keys)
            if (!await Names.ClassExistsAsync(db, rc, ct)) throw OpenStackError.BadRequest($"Invalid resource class in resources parameter: No such resource class {rc}.");
        var limit = q["limit"].FirstOrDefault() is { } l && int.TryParse(l, out var n) && n > 0 ? n : int.MaxValue;
        var required = (q["required"].FirstOrDefault() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var memberOf = q["member_of"].FirstOrDefault() is { } m ? (m.StartsWith("in:", StringComparison.Ordinal) ? m[3..] : m).Split(',') : null;
        // Everything in five queries, whatever the number of providers: the scheduler asks this for every server.
        var providers = await db.Providers.OrderBy(p => p.Name).ToListAsync(ct);
        var traits = await db.ProviderTraits.ToListAsync(ct);
        var aggregates = await db.ProviderAggregates.ToListAsync(ct);
        var allInventories = (await db.Inventories.ToListAsync(ct)).ToLookup(i => i.ProviderUuid);
        var allUsed = (await db.Allocations.GroupBy(a => new { a.ProviderUuid, a.ResourceClass })
                .Select(g => new { g.Key.ProviderUuid, g.Key.ResourceClass, Used = g.Sum(a => a.Used) }).ToListAsync(ct))
            .GroupBy(u => u.ProviderUuid).ToDictionary(g => g.Key, g => (IReadOnlyDictionary<string, long>)g.ToDictionary(u => u.ResourceClass, u => u.Used));
        var requests = new JsonArray();
        var summaries = new JsonObject();
        foreach (var rp in providers)
        {
            if (requests.Count >= limit) break;
            var mine = traits.Where(t => t.ProviderUuid == rp.Uuid).Select(t => t.Trait).ToHashSet();
            if (!required.All(t => t.StartsWith('!') ? !mine.Contains(t[1..]) : mine.Contains(t))) continue;
            if (memberOf is not null && !aggregates.Any(a => a.ProviderUuid == rp.Uuid && memberOf.Contains(a.Aggregate))) continue;
            var inventories = allInventories[rp.Uuid].ToList();
            var used = allUsed.GetValueOrDefault(rp.Uuid) ?? new Dictionary<string, long>();
            if (Problem(rp.Uuid, inventories, used, asked) is not null) continue;
            var resources = new JsonObject(asked.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value)));
            var request = new JsonObject { ["allocations"] = new JsonObject { [rp.Uuid] = new JsonObject { ["resources"] = resources } } };
            if (http.AtLeast(34)) request["mappings"] = new JsonObject { [""] = new JsonArray(rp.Uuid) };
            requests.Add(request);
            var summary = new JsonObject
            {
                ["resources"] = new JsonObject(inventories.Where(i => http.AtLeast(27) || asked.ContainsKey(i.ResourceClass)).Select(i => KeyValuePair.Create(i.ResourceClass,
                    (JsonNode?)new JsonObject
                    {
                        ["capacity"] = i.Capacity,
                        ["used"] = used.GetValueOrDefault(i.ResourceClass),
                    }))),
            };
            if (http.AtLeast(17)) summary["traits"] = new JsonArray([.. mine.Order().Select(t => (JsonNode)t)]);
            if (http.AtLeast(29)) { summary["parent_provider_uuid"] = rp.ParentUuid; summary["root_provider_uuid"] = rp.RootUuid; }
            summaries[rp.Uuid] = summary;
        }
        return new JsonResponse(new JsonObject { ["allocation_requests"] = requests, ["provider_summaries"] = summaries });
    }

    static async Task<IResult> ProjectUsages(HttpContext http, PlacementDb db, CancellationToken ct)
    {
        if (!http.AtLeast(9)) throw OpenStackError.NotFound("The resource could not be found.");
        var project = http.Request.Query["project_id"].FirstOrDefault() ?? throw OpenStackError.BadRequest("'project_id' is a required property");
        var user = http.Request.Query["user_id"].FirstOrDefault();
        var consumers = db.Consumers.Where(c => c.ProjectId == project && (user == null || c.UserId == user)).Select(c => c.Uuid);
        var usages = await db.Allocations.Where(a => consumers.Contains(a.ConsumerUuid)).GroupBy(a => a.ResourceClass)
            .Select(g => new { g.Key, Used = g.Sum(a => a.Used) }).ToListAsync(ct);
        return new JsonResponse(new JsonObject { ["usages"] = new JsonObject(usages.Select(u => KeyValuePair.Create(u.Key, (JsonNode?)u.Used))) });
    }
}
