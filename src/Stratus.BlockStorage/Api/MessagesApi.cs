namespace Stratus.BlockStorage.Api;

/// <summary><c>/messages</c> (3.3+): the user messages that say why a volume or snapshot ended in error.</summary>
public static class MessagesApi
{
    public static void MapMessages(this RouteGroupBuilder project)
    {
        var messages = project.MapGroup("/messages");
        messages.MapGet("", List).From(3);
        messages.MapGet("/{id}", Show).From(3);
        messages.MapDelete("/{id}", Delete).From(3);
    }

    static JsonObject View(HttpContext http, UserMessage m) => new()
    {
        ["id"] = m.Id,
        ["event_id"] = m.EventId,
        ["user_message"] = m.Message,
        ["message_level"] = m.MessageLevel,
        ["resource_type"] = m.ResourceType,
        ["resource_uuid"] = m.ResourceUuid,
        ["created_at"] = CinderApi.Time(m.CreatedAt),
        ["guaranteed_until"] = CinderApi.Time(m.ExpiresAt),
        ["request_id"] = m.RequestId,
        ["links"] = CinderApi.Links(http, "messages", m.Id),
    };

    static async Task<UserMessage> FindAsync(HttpContext http, CinderDb db, string id, CancellationToken ct)
    {
        var m = await db.Messages.FirstOrDefaultAsync(x => x.Id == id, ct);
        return m is not null && http.CanSee(m.ProjectId) ? m : throw OpenStackError.NotFound($"Message {id} could not be found.");
    }

    static async Task<IResult> List(HttpContext http, CinderDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        http.Authorize("message:get_all", caller.ProjectId);
        var q = http.Request.Query;
        IQueryable<UserMessage> query = db.Messages.AsNoTracking();
        if (!http.IsAdmin()) query = query.Where(m => m.ProjectId == caller.ProjectId);
        if (q["resource_uuid"].FirstOrDefault() is { } resource) query = query.Where(m => m.ResourceUuid == resource);
        if (q["event_id"].FirstOrDefault() is { } ev) query = query.Where(m => m.EventId == ev);
        var rows = await query.OrderByDescending(m => m.CreatedAt).ToListAsync(ct);
        return new JsonResponse(new JsonObject { ["messages"] = new JsonArray([.. rows.Select(m => (JsonNode)View(http, m))]) });
    }

    static async Task<IResult> Show(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var m = await FindAsync(http, db, id, ct);
        http.Authorize("message:get", m.ProjectId);
        return new JsonResponse(new JsonObject { ["message"] = View(http, m) });
    }

    static async Task<IResult> Delete(string id, HttpContext http, CinderDb db, CancellationToken ct)
    {
        var m = await FindAsync(http, db, id, ct);
        http.Authorize("message:delete", m.ProjectId);
        db.Messages.Remove(m);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
