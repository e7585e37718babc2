using System.Text.Json;
using Stratus.Identity.Catalog;

namespace Stratus.Identity.Api;

/// <summary>/v3/regions (keystone/api/regions.py, catalog/backends/sql.py).</summary>
public static class RegionsApi
{
    static readonly string[] Attributes = ["id", "description", "parent_region_id", "links"];

    public static RouteGroupBuilder MapRegions(this RouteGroupBuilder v3)
    {
        var regions = v3.MapGroup("/regions");
        regions.MapMethods("/", ["GET", "HEAD"], List).RequirePolicy("identity:list_regions");
        regions.MapMethods("/{regionId}", ["GET", "HEAD"], Get).RequirePolicy("identity:get_region");
        regions.MapPost("/", Create).RequirePolicy("identity:create_region");
        regions.MapPut("/{regionId}", CreateWithId).RequirePolicy("identity:create_region");
        regions.MapPatch("/{regionId}", Update).RequirePolicy("identity:update_region");
        regions.MapDelete("/{regionId}", Delete).RequirePolicy("identity:delete_region");
        return regions;
    }

    public static JsonObject Render(HttpContext http, Region r) =>
        new JsonObject
        {
            ["id"] = r.Id,
            ["description"] = r.Description,
            ["parent_region_id"] = r.ParentRegionId,
            ["links"] = Links.Self(http, "regions/" + r.Id),
        }.WithExtra(r.Extra);

    // Through plain ADO.NET (a hot path: every client lists regions), not EF Core.
    static async Task<IResult> List(HttpContext http, IdentityStore store, CancellationToken ct)
    {
        var regions = await store.RegionsAsync(ct);
        var items = RequestFields.Filter(regions.Select(r => Render(http, r)), http.Request.Query, "parent_region_id");
        return new JsonResponse(Links.Collection(http, "regions", items));
    }

    static async Task<IResult> Get(HttpContext http, IdentityDb db, string regionId, CancellationToken ct) =>
        new JsonResponse(new JsonObject { ["region"] = Render(http, await FindAsync(db, regionId, ct)) });

    static async Task<IResult> Create(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var body = RequestFields.Normalize((await JsonBody.ReadObjectAsync(http.Request, ct)).Object("region"));
        // Keystone only documents PUT for choosing an id, but has always honoured one in a POST too.
        var id = ReadRegion(body).Id;
        if (string.IsNullOrEmpty(id)) id = Links.NewId();
        return await CreateAsync(http, db, id, body, ct);
    }

    static async Task<IResult> CreateWithId(HttpContext http, IdentityDb db, string regionId, CancellationToken ct)
    {
        var body = RequestFields.Normalize((await JsonBody.ReadObjectAsync(http.Request, ct)).Object("region"));
        var id = ReadRegion(body).Id;
        if (body.ContainsKey("id") && id != regionId)
            throw OpenStackError.BadRequest($"Conflicting region IDs specified: \"{regionId}\" != \"{id}\"");
        return await CreateAsync(http, db, regionId, body, ct);
    }

    static async Task<IResult> CreateAsync(HttpContext http, IdentityDb db, string id, JsonObject body, CancellationToken ct)
    {
        if (id.Length > 255)
            throw OpenStackError.BadRequest("Invalid input for field 'id': the value is longer than 255 characters");
        var fields = ReadRegion(body);
        if (await db.Regions.AnyAsync(r => r.Id == id, ct))
            throw OpenStackError.Conflict($"Conflict occurred attempting to store region - Duplicate ID, {id}.");
        if (fields.ParentRegionId is { } parent && !await db.Regions.AnyAsync(r => r.Id == parent, ct))
            throw OpenStackError.NotFound($"Could not find region: {parent}.");
        var region = new Region
        {
            Id = id,
            Description = fields.Description ?? "",
            ParentRegionId = fields.ParentRegionId,
            Extra = body.Extra(Attributes).ToJsonString(),
        };
        db.Regions.Add(region);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["region"] = Render(http, region) }, 201);
    }

    static async Task<IResult> Update(HttpContext http, IdentityDb db, string regionId, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("region");
        RequestFields.RequireSomething(body);
        var fields = ReadRegion(body);
        if (fields.Id is not null && fields.Id != regionId) throw OpenStackError.BadRequest("Cannot change ID");
        if (fields.ParentRegionId is { } parent && !await db.Regions.AnyAsync(r => r.Id == parent, ct))
            throw OpenStackError.NotFound($"Could not find region: {parent}.");
        var region = await FindAsync(db, regionId, ct, tracked: true);
        if (body.ContainsKey("description")) region.Description = fields.Description ?? "";
        if (body.ContainsKey("parent_region_id"))
        {
            await EnsureNoCycleAsync(db, regionId, fields.ParentRegionId, ct);
            region.ParentRegionId = fields.ParentRegionId;
        }
        region.Extra = Extra.Merge(region.Extra, body.Extra(Attributes));
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["region"] = Render(http, region) });
    }

    /// <summary>As Keystone: the region goes with all its descendants, unless one of them still has endpoints (403).</summary>
    static async Task<IResult> Delete(IdentityDb db, string regionId, CancellationToken ct)
    {
        var region = await FindAsync(db, regionId, ct, tracked: true);
        var all = await db.Regions.ToListAsync(ct);
        var doomed = new List<Region> { region };
        var seen = new HashSet<string> { region.Id };
        for (var i = 0; i < doomed.Count; i++)
            foreach (var child in all.Where(r => r.ParentRegionId == doomed[i].Id))
                if (seen.Add(child.Id)) doomed.Add(child);
        var ids = seen.ToList();
        if (await db.Endpoints.AnyAsync(e => e.RegionId != null && ids.Contains(e.RegionId), ct))
            throw OpenStackError.Forbidden($"Unable to delete region {regionId} because it or its child regions have associated endpoints.");
        db.Regions.RemoveRange(doomed);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static async Task EnsureNoCycleAsync(IdentityDb db, string regionId, string? parentId, CancellationToken ct)
    {
        var parents = await db.Regions.AsNoTracking().ToDictionaryAsync(r => r.Id, r => r.ParentRegionId, ct);
        var steps = 0;
        for (var p = parentId; p is not null && steps <= parents.Count; p = parents.GetValueOrDefault(p), steps++)
            if (p == regionId)
                throw OpenStackError.BadRequest($"The specified parent region {parentId} would create a circular region hierarchy.");
    }

    static async Task<Region> FindAsync(IdentityDb db, string id, CancellationToken ct, bool tracked = false)
    {
        var q = tracked ? db.Regions : db.Regions.AsNoTracking();
        return await q.FirstOrDefaultAsync(r => r.Id == id, ct) ?? throw OpenStackError.NotFound($"Could not find region: {id}.");
    }

    sealed record RegionFields(string? Id, string? Description, string? ParentRegionId);

    /// <summary>Keystone's region schema: every field optional, id and parent_region_id strings (the parent nullable).</summary>
    static RegionFields ReadRegion(JsonObject body)
    {
        if (body.TryGetPropertyValue("id", out var id) && id?.GetValueKind() != JsonValueKind.String)
            throw RequestFields.NotOfType("id", id, "string");
        return new RegionFields(
            id?.GetValue<string>(),
            body.OptionalString("description", int.MaxValue, allowEmpty: true),
            body.OptionalString("parent_region_id", 255, allowEmpty: true));
    }
}
