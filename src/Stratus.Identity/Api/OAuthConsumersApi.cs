using Stratus.Identity.OAuth1;

namespace Stratus.Identity.Api;

/// <summary>/v3/OS-OAUTH1/consumers (keystone/api/os_oauth1.py ConsumerResource).</summary>
public static class OAuthConsumersApi
{
    static readonly string[] Attributes = ["id", "description", "secret", "links"];

    public static RouteGroupBuilder MapOAuthConsumers(this RouteGroupBuilder v3)
    {
        var consumers = v3.MapGroup("/OS-OAUTH1/consumers");
        consumers.MapMethods("/", ["GET", "HEAD"], List).RequirePolicy("identity:list_consumers");
        consumers.MapMethods("/{consumerId}", ["GET", "HEAD"], Get).RequirePolicy("identity:get_consumer");
        consumers.MapPost("/", Create).RequirePolicy("identity:create_consumer");
        consumers.MapPatch("/{consumerId}", Update).RequirePolicy("identity:update_consumer");
        consumers.MapDelete("/{consumerId}", Delete).RequirePolicy("identity:delete_consumer");
        return consumers;
    }

    static JsonObject Render(HttpContext http, OAuthConsumer c) =>
        new JsonObject
        {
            ["id"] = c.Id,
            ["description"] = c.Description,
            ["links"] = Links.Self(http, "OS-OAUTH1/consumers/" + c.Id),
        }.WithExtra(c.Extra);

    static async Task<IResult> List(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var consumers = await db.OAuthConsumers.AsNoTracking().ToListAsync(ct);
        return new JsonResponse(Links.Collection(http, "consumers", consumers.Select(c => Render(http, c))));
    }

    static async Task<IResult> Get(HttpContext http, IdentityDb db, string consumerId, CancellationToken ct) =>
        new JsonResponse(new JsonObject { ["consumer"] = Render(http, await FindAsync(db, consumerId, ct)) });

    /// <summary>The secret is shown this once (it is kept, as Keystone keeps it: the consumer's requests are signed with it).</summary>
    static async Task<IResult> Create(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var body = RequestFields.Normalize((await JsonBody.ReadObjectAsync(http.Request, ct)).Object("consumer"));
        var secret = Links.NewId();
        var consumer = new OAuthConsumer
        {
            Id = Links.NewId(),
            Description = body.OptionalString("description", 64, allowEmpty: true),
            Secret = secret,
            Extra = body.Extra(Attributes).ToJsonString(),
        };
        db.OAuthConsumers.Add(consumer);
        await db.SaveChangesAsync(ct);
        var rendered = Render(http, consumer);
        rendered["secret"] = secret;
        return new JsonResponse(new JsonObject { ["consumer"] = rendered }, 201);
    }

    static async Task<IResult> Update(HttpContext http, IdentityDb db, string consumerId, CancellationToken ct)
    {
        var raw = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("consumer");
        RequestFields.RequireSomething(raw);
        if (raw.ContainsKey("secret")) throw OpenStackError.BadRequest("Invalid input for field 'secret': the secret cannot be changed");
        var description = raw.OptionalString("description", 64, allowEmpty: true);
        var body = RequestFields.Normalize(raw);
        if (body.ContainsKey("id") && body["id"]?.ToJsonString() != $"\"{consumerId}\"") throw OpenStackError.BadRequest("Cannot change ID");
        var consumer = await FindAsync(db, consumerId, ct, tracked: true);
        if (body.ContainsKey("description")) consumer.Description = description;
        consumer.Extra = Extra.Merge(consumer.Extra, body.Extra(Attributes));
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["consumer"] = Render(http, consumer) });
    }

    /// <summary>The consumer goes with its request and access tokens, and so the tokens issued for them.</summary>
    static async Task<IResult> Delete(IdentityDb db, string consumerId, CancellationToken ct)
    {
        var consumer = await FindAsync(db, consumerId, ct, tracked: true);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.RequestTokens.Where(t => t.ConsumerId == consumerId).ExecuteDeleteAsync(ct);
        await db.AccessTokens.Where(t => t.ConsumerId == consumerId).ExecuteDeleteAsync(ct);
        db.OAuthConsumers.Remove(consumer);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return Results.NoContent();
    }

    /// <summary>A consumer with its secret, or Keystone's 404.</summary>
    public static async Task<OAuthConsumer> FindAsync(IdentityDb db, string id, CancellationToken ct, bool tracked = false)
    {
        var q = tracked ? db.OAuthConsumers : db.OAuthConsumers.AsNoTracking();
        return await q.FirstOrDefaultAsync(c => c.Id == id, ct) ?? throw OpenStackError.NotFound("Consumer not found");
    }
}
