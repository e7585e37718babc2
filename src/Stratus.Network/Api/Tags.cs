using Microsoft.Extensions.DependencyInjection;
using Stratus.Network.Policy;

namespace Stratus.Network.Api;

/// <summary>
/// Tags on any standard resource (standard-attr-tag): <c>/v2.0/{collection}/{id}/tags</c> to replace,
/// add, check, remove one or all; tags show in each resource's view and filter its list.
/// </summary>
static class Tags
{
    /// <summary>The collections with tags, and the singular their policy rules use.</summary>
    static readonly Dictionary<string, string> Taggable = new(StringComparer.Ordinal)
    {
        ["networks"] = "network", ["subnets"] = "subnet", ["ports"] = "port", ["subnetpools"] = "subnetpool",
        ["routers"] = "router", ["floatingips"] = "floatingip", ["security-groups"] = "security_group",
    };

    public static async Task<Dictionary<string, List<string>>> OfAsync(NetworkDb db, IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        var rows = ids.Count > 500
            ? (await db.Tags.AsNoTracking().ToListAsync(ct)).Where(t => ids.Contains(t.ResourceId))
            : await db.Tags.AsNoTracking().Where(t => ids.Contains(t.ResourceId)).ToListAsync(ct);
        return rows.GroupBy(t => t.ResourceId).ToDictionary(g => g.Key, g => g.Select(t => t.Tag).ToList(), StringComparer.Ordinal);
    }

    public static async Task RemoveAsync(NetworkDb db, string id, CancellationToken ct) =>
        db.Tags.RemoveRange(await db.Tags.Where(t => t.ResourceId == id).ToListAsync(ct));

    public static IEndpointRouteBuilder MapTags(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2.0/{collection}/{id}/tags", async (string collection, string id, HttpContext http, NetworkDb db, CancellationToken ct) =>
        {
            await ResourceAsync(http, db, collection, id, "get", ct);
            var tags = await db.Tags.Where(t => t.ResourceId == id).Select(t => t.Tag).ToListAsync(ct);
            return new JsonResponse(new JsonObject { ["tags"] = new JsonArray([.. tags.Order(StringComparer.Ordinal).Select(t => (JsonNode)t)]) });
        });
        app.MapGet("/v2.0/{collection}/{id}/tags/{tag}", async (string collection, string id, string tag, HttpContext http, NetworkDb db, CancellationToken ct) =>
        {
            await ResourceAsync(http, db, collection, id, "get", ct);
            return await db.Tags.AnyAsync(t => t.ResourceId == id && t.Tag == tag, ct)
                ? Results.NoContent()
                : throw new OpenStackError(404, "TagNotFound", $"Tag {tag} could not be found for {Taggable[collection]} {id}.");
        });
        app.MapPut("/v2.0/{collection}/{id}/tags", async (string collection, string id, HttpContext http, NetworkDb db, CancellationToken ct) =>
        {
            var row = await ResourceAsync(http, db, collection, id, "update", ct);
            var body = await JsonBody.ReadObjectAsync(http.Request, ct);
            var list = (body["tags"] as JsonArray ?? throw NeutronErrors.BadRequest("Invalid tags body")).Select(t => Valid(t)).Distinct().ToList();
            await RemoveAsync(db, id, ct);
            await db.SaveChangesAsync(ct);
            db.Tags.AddRange(list.Select(t => new TagRow { ResourceId = id, Tag = t }));
            await BumpAsync(http, db, row, ct);
            return new JsonResponse(new JsonObject { ["tags"] = new JsonArray([.. list.Select(t => (JsonNode)t)]) });
        });
        app.MapPut("/v2.0/{collection}/{id}/tags/{tag}", async (string collection, string id, string tag, HttpContext http, NetworkDb db, CancellationToken ct) =>
        {
            var row = await ResourceAsync(http, db, collection, id, "update", ct);
            Valid(tag);
            if (!await db.Tags.AnyAsync(t => t.ResourceId == id && t.Tag == tag, ct))
            {
                db.Tags.Add(new TagRow { ResourceId = id, Tag = tag });
                await BumpAsync(http, db, row, ct);
            }
            return Results.Created();
        });
        app.MapDelete("/v2.0/{collection}/{id}/tags", async (string collection, string id, HttpContext http, NetworkDb db, CancellationToken ct) =>
        {
            var row = await ResourceAsync(http, db, collection, id, "update", ct);
            await RemoveAsync(db, id, ct);
            await BumpAsync(http, db, row, ct);
            return Results.NoContent();
        });
        app.MapDelete("/v2.0/{collection}/{id}/tags/{tag}", async (string collection, string id, string tag, HttpContext http, NetworkDb db, CancellationToken ct) =>
        {
            var row = await ResourceAsync(http, db, collection, id, "update", ct);
            var found = await db.Tags.SingleOrDefaultAsync(t => t.ResourceId == id && t.Tag == tag, ct)
                ?? throw new OpenStackError(404, "TagNotFound", $"Tag {tag} could not be found for {Taggable[collection]} {id}.");
            db.Tags.Remove(found);
            await BumpAsync(http, db, row, ct);
            return Results.NoContent();
        });
        return app;
    }

    static string Valid(JsonNode? tag)
    {
        if (tag is not JsonValue v || !v.TryGetValue<string>(out var s) || s.Length == 0 || s.Length > 255 || s.Contains(','))
            throw NeutronErrors.BadRequest($"Invalid tag: '{tag?.ToJsonString()}' is not a string of at most 255 characters without commas");
        return s;
    }

    static async Task BumpAsync(HttpContext http, NetworkDb db, StandardRow row, CancellationToken ct)
    {
        Standard.Touch(row, http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The tagged resource, checked as its own API checks it: invisible is 404, not changeable 403.</summary>
    static async Task<StandardRow> ResourceAsync(HttpContext http, NetworkDb db, string collection, string id, string action, CancellationToken ct)
    {
        if (!Taggable.TryGetValue(collection, out var singular)) throw OpenStackError.NotFound("The resource could not be found.");
        StandardRow? row = collection switch
        {
            "networks" => await db.Networks.FindAsync([id], ct),
            "subnets" => await db.Subnets.FindAsync([id], ct),
            "ports" => await db.Ports.FindAsync([id], ct),
            "subnetpools" => await db.SubnetPools.FindAsync([id], ct),
            "routers" => await db.Routers.FindAsync([id], ct),
            "floatingips" => await db.FloatingIps.FindAsync([id], ct),
            _ => await db.SecurityGroups.FindAsync([id], ct),
        };
        var kind = singular switch
        {
            "security_group" => "Security group", "floatingip" => "Floating IP", "subnetpool" => "Subnet pool",
            _ => char.ToUpperInvariant(singular[0]) + singular[1..],
        };
        if (row is null) throw NeutronErrors.NotFound(kind, id);
        var network = row switch
        {
            NetworkRow n => n,
            SubnetRow s => await db.Networks.FindAsync([s.NetworkId], ct),
            PortRow p => await db.Networks.FindAsync([p.NetworkId], ct),
            _ => null,
        };
        var target = new Dictionary<string, string?>(StringComparer.Ordinal) { ["project_id"] = row.ProjectId, ["tenant_id"] = row.ProjectId };
        if (network is not null)
        {
            target["network:tenant_id"] = network.ProjectId;
            target["shared"] = network.Shared ? "True" : "False";
            target["router:external"] = network.External ? "True" : "False";
        }
        if (row is SubnetPoolRow sp) target["shared"] = sp.Shared ? "True" : "False";
        if (!NeutronPolicy.CanSee(http, singular, target)) throw NeutronErrors.NotFound(kind, id);
        // Neutron's tag rules: create/update/delete_{resource}:tags; where not defined, update_{resource}.
        if (action != "get") NeutronPolicy.Enforce(http, $"update_{singular}", target);
        return row;
    }
}
