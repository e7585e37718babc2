namespace Stratus.Compute.Api;

/// <summary><c>/servers/{id}/tags</c> (2.26): at most 50 tags of 1-60 characters, without '/' or ','.</summary>
public static class ServerTagsApi
{
    public static RouteGroupBuilder MapServerTags(this RouteGroupBuilder v21)
    {
        var tags = v21.MapGroup("/servers/{id}/tags");
        tags.MapGet("", async (string id, HttpContext http, CellDb db, CancellationToken ct) =>
            new JsonResponse(new JsonObject { ["tags"] = JsonNode.Parse((await FindAsync(http, db, id, ct)).TagsJson) }));
        tags.MapPut("", ReplaceAll);
        tags.MapDelete("", async (string id, HttpContext http, CellDb db, CancellationToken ct) =>
        {
            await SaveAsync(await FindAsync(http, db, id, ct, "os_compute_api:os-server-tags:delete_all"), [], db, ct);
            return Results.NoContent();
        });
        tags.MapGet("/{tag}", async (string id, string tag, HttpContext http, CellDb db, CancellationToken ct) =>
            Tags(await FindAsync(http, db, id, ct)).Contains(tag) ? Results.NoContent() : throw OpenStackError.NotFound($"Tag {tag} could not be found."));
        tags.MapPut("/{tag}", Add);
        tags.MapDelete("/{tag}", async (string id, string tag, HttpContext http, CellDb db, CancellationToken ct) =>
        {
            var instance = await FindAsync(http, db, id, ct, "os_compute_api:os-server-tags:delete");
            var list = Tags(instance);
            if (!list.Remove(tag)) throw OpenStackError.NotFound($"Tag {tag} could not be found.");
            await SaveAsync(instance, list, db, ct);
            return Results.NoContent();
        });
        return tags;
    }

    static List<string> Tags(Instance i) => [.. JsonNode.Parse(i.TagsJson)!.AsArray().Select(t => (string)t!)];

    /// <summary>The server; for a change (<paramref name="writeRule"/>), also the caller's right to make it, and the lock.</summary>
    static async Task<Instance> FindAsync(HttpContext http, CellDb db, string id, CancellationToken ct, string? writeRule = null)
    {
        if (!Microversion.Of(http).AtLeast(26)) throw OpenStackError.NotFound("The resource could not be found.");
        if (writeRule is not null) http.Enforce(writeRule);
        var instance = await ComputeAccess.FindServerAsync(db, id, http.Caller(), ct);
        if (writeRule is not null && instance.Locked && !http.Caller().IsAdmin) throw OpenStackError.Conflict($"Instance {id} is locked");
        return instance;
    }

    static async Task SaveAsync(Instance instance, List<string> tags, CellDb db, CancellationToken ct)
    {
        instance.TagsJson = new JsonArray([.. tags.Select(t => (JsonNode)t)]).ToJsonString();
        instance.Touch();
        await db.SaveChangesAsync(ct);
    }

    public static string ValidTag(JsonNode? node)
    {
        if (node is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.String) throw NovaBody.Invalid("tags", node, "is not of type 'string'");
        var tag = (string)v!;
        if (tag.Length is 0 or > 60) throw NovaBody.Invalid("tags", node, tag.Length == 0 ? "is too short" : "is too long");
        if (tag.Contains('/') || tag.Contains(',')) throw NovaBody.Invalid("tags", node, "does not match '^[^,/]*$'");
        return tag;
    }

    public static List<string> Validate(JsonNode? node)
    {
        if (node is not JsonArray list) throw NovaBody.Invalid("tags", node, "is not of type 'array'");
        if (list.Count > 50) throw NovaBody.Invalid("tags", node, "is too long");
        return [.. list.Select(ValidTag).Distinct()];
    }

    static async Task<IResult> ReplaceAll(string id, HttpContext http, CellDb db, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var instance = await FindAsync(http, db, id, ct, "os_compute_api:os-server-tags:update_all");
        var tags = Validate(body["tags"]);
        await SaveAsync(instance, tags, db, ct);
        return new JsonResponse(new JsonObject { ["tags"] = new JsonArray([.. tags.Select(t => (JsonNode)t)]) });
    }

    static async Task<IResult> Add(string id, string tag, HttpContext http, CellDb db, CancellationToken ct)
    {
        var instance = await FindAsync(http, db, id, ct, "os_compute_api:os-server-tags:update");
        ValidTag(JsonValue.Create(tag));
        var tags = Tags(instance);
        if (tags.Contains(tag)) return Results.NoContent();
        if (tags.Count >= 50) throw OpenStackError.BadRequest($"The number of tags exceeded the per-server limit 50");
        tags.Add(tag);
        await SaveAsync(instance, tags, db, ct);
        http.Response.Headers.Location = $"{http.Request.Scheme}://{http.Request.Host}/v2.1/servers/{id}/tags/{Uri.EscapeDataString(tag)}";
        return Results.StatusCode(201);
    }
}
