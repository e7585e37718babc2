namespace Stratus.BlockStorage.Api;

/// <summary>
/// The <c>/metadata</c> of a volume or a snapshot, as Cinder serves both: show all, merge (POST), replace (PUT),
/// and one key's show, update and delete, each under the owner's own policy rules.
/// </summary>
static class MetadataApi
{
    /// <summary>What the handlers need of the resource: its owner for the policy target, its metadata column, and how a write is recorded.</summary>
    public sealed record Owner(string ProjectId, string UserId, Func<string?> Read, Action<string> Write, Action Touch, Action? CheckWritable = null);

    public sealed record Rules(string Show, string Create, string Update, string Delete);

    public delegate Task<Owner> Find(string id, HttpContext http, CinderDb db, CancellationToken ct);

    public static void MapMetadata(this RouteGroupBuilder resource, Find find, Rules rules)
    {
        resource.MapGet("/{id}/metadata", async (string id, HttpContext http, CinderDb db, CancellationToken ct) =>
        {
            var o = await find(id, http, db, ct);
            http.Authorize(rules.Show, o.ProjectId, o.UserId);
            return new JsonResponse(new JsonObject { ["metadata"] = MetadataColumn.View(o.Read()) });
        });
        resource.MapPost("/{id}/metadata", (string id, HttpContext http, CinderDb db, CancellationToken ct) => SetAsync(find, rules.Create, id, http, db, replace: false, ct));
        resource.MapPut("/{id}/metadata", (string id, HttpContext http, CinderDb db, CancellationToken ct) => SetAsync(find, rules.Update, id, http, db, replace: true, ct));
        resource.MapGet("/{id}/metadata/{key}", async (string id, string key, HttpContext http, CinderDb db, CancellationToken ct) =>
        {
            var o = await find(id, http, db, ct);
            http.Authorize(rules.Show, o.ProjectId, o.UserId);
            return MetadataColumn.Read(o.Read()).TryGetValue(key, out var value)
                ? new JsonResponse(new JsonObject { ["meta"] = new JsonObject { [key] = value } })
                : throw OpenStackError.NotFound("Metadata item was not found");
        });
        resource.MapPut("/{id}/metadata/{key}", async (string id, string key, HttpContext http, CinderDb db, CancellationToken ct) =>
        {
            var o = await find(id, http, db, ct);
            http.Authorize(rules.Update, o.ProjectId, o.UserId);
            var item = CinderApi.Metadata(await JsonBody.ReadObjectAsync(http.Request, ct), "meta");
            if (item.Count != 1) throw OpenStackError.BadRequest("Request body contains too many items");
            if (!item.TryGetValue(key, out var value)) throw OpenStackError.BadRequest("Request body and URI mismatch");
            o.CheckWritable?.Invoke();
            var meta = MetadataColumn.Read(o.Read());
            meta[key] = value;
            await SaveAsync(o, meta, db, ct);
            return new JsonResponse(new JsonObject { ["meta"] = new JsonObject { [key] = value } });
        });
        resource.MapDelete("/{id}/metadata/{key}", async (string id, string key, HttpContext http, CinderDb db, CancellationToken ct) =>
        {
            var o = await find(id, http, db, ct);
            http.Authorize(rules.Delete, o.ProjectId, o.UserId);
            var meta = MetadataColumn.Read(o.Read());
            if (!meta.Remove(key)) throw OpenStackError.NotFound("Metadata item was not found");
            o.CheckWritable?.Invoke();
            await SaveAsync(o, meta, db, ct);
            return Results.Ok();
        });
    }

    static async Task<IResult> SetAsync(Find find, string rule, string id, HttpContext http, CinderDb db, bool replace, CancellationToken ct)
    {
        var o = await find(id, http, db, ct);
        http.Authorize(rule, o.ProjectId, o.UserId);
        var given = CinderApi.Metadata(await JsonBody.ReadObjectAsync(http.Request, ct));
        o.CheckWritable?.Invoke();
        var meta = replace ? given : MetadataColumn.Read(o.Read());
        if (!replace) foreach (var (k, v) in given) meta[k] = v;
        await SaveAsync(o, meta, db, ct);
        return new JsonResponse(new JsonObject { ["metadata"] = MetadataColumn.View(o.Read()) });
    }

    static async Task SaveAsync(Owner o, Dictionary<string, string> meta, CinderDb db, CancellationToken ct)
    {
        o.Write(MetadataColumn.Write(meta));
        o.Touch();
        await db.SaveChangesAsync(ct);
    }
}
