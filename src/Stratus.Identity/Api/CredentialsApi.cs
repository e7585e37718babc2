using System.Security.Cryptography;
using System.Text;
using Stratus.Identity.Identity;

namespace Stratus.Identity.Api;

/// <summary>/v3/credentials and the EC2 credentials under /v3/users/{id}/credentials/OS-EC2
/// (keystone/api/credentials.py, users.py).</summary>
public static class CredentialsApi
{
    public static RouteGroupBuilder MapCredentials(this RouteGroupBuilder v3)
    {
        var creds = v3.MapGroup("/credentials");
        creds.MapGet("/", List).RequireToken();
        creds.MapPost("/", Create).RequireToken();
        creds.MapGet("/{credentialId}", Get).RequireToken();
        creds.MapPatch("/{credentialId}", Update).RequireToken();
        creds.MapDelete("/{credentialId}", Delete).RequireToken();

        var ec2 = v3.MapGroup("/users/{userId}/credentials/OS-EC2");
        ec2.MapPost("/", CreateEc2).RequireToken();
        ec2.MapGet("/", ListEc2).RequireToken();
        ec2.MapGet("/{access}", GetEc2).RequireToken();
        ec2.MapDelete("/{access}", DeleteEc2).RequireToken();
        return v3;
    }

    static JsonObject Render(HttpContext http, Credential c) => new JsonObject
    {
        ["id"] = c.Id,
        ["user_id"] = c.UserId,
        ["project_id"] = c.ProjectId,
        ["type"] = c.Type,
        ["blob"] = c.Blob,
        ["links"] = Links.Self(http, "credentials/" + c.Id),
    }.WithExtra(c.Extra);

    static Dictionary<string, string?> Target(string userId) => new() { ["target.credential.user_id"] = userId, ["user_id"] = userId };

    /// <summary>Keystone names an EC2 credential by the SHA-256 of its access key, so it can be found by it.</summary>
    static string Ec2Id(string access) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(access)));

    static string? Ec2Access(string type, string blob)
    {
        if (type != "ec2") return null;
        try
        {
            return (JsonNode.Parse(blob) as JsonObject)?["access"]?.GetValue<string>()
                ?? throw OpenStackError.BadRequest("Credential of type ec2 needs an 'access' key in its blob.");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            throw OpenStackError.BadRequest("Invalid blob in credential: an ec2 blob must be a JSON object with 'access' and 'secret'.");
        }
    }

    static async Task<IResult> List(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var q = http.Request.Query;
        var query = db.Credentials.AsNoTracking();
        if (q["user_id"].FirstOrDefault() is { } u) query = query.Where(c => c.UserId == u);
        if (q["type"].FirstOrDefault() is { } t) query = query.Where(c => c.Type == t);
        var all = await query.ToListAsync(ct);
        // Keystone filters the list down to what the caller may see, rather than refusing it.
        var visible = all.Where(c => http.IsAllowed("identity:list_credentials", Target(c.UserId)) || c.UserId == caller.UserId);
        return new JsonResponse(Links.Collection(http, "credentials", visible.Select(c => (JsonNode?)Render(http, c))));
    }

    static async Task<Credential> FindAsync(HttpContext http, IdentityDb db, string id, string rule, CancellationToken ct)
    {
        var cred = await db.Credentials.FirstOrDefaultAsync(c => c.Id == id, ct) ?? throw OpenStackError.NotFound($"Could not find credential: {id}.");
        http.Enforce(rule, Target(cred.UserId));
        return cred;
    }

    static async Task<IResult> Get(HttpContext http, IdentityDb db, string credentialId, CancellationToken ct) =>
        new JsonResponse(new JsonObject { ["credential"] = Render(http, await FindAsync(http, db, credentialId, "identity:get_credential", ct)) });

    static async Task<IResult> Create(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("credential");
        var userId = body.RequiredString("user_id", 64);
        http.Enforce("identity:create_credential", Target(userId));
        var type = body.RequiredString("type");
        var blob = body.RequiredString("blob", 65536);
        var projectId = body["project_id"] is null ? null : body.OptionalString("project_id", 64);
        await Lookup.UserAsync(db, userId, ct);
        var access = Ec2Access(type, blob);
        if (access is not null && projectId is null)
            throw OpenStackError.BadRequest("Credential of type ec2 needs a project_id.");
        if (access is not null) blob = WithDelegation(blob, http.Caller());
        var id = access is not null ? Ec2Id(access) : Links.NewId();
        if (await db.Credentials.AnyAsync(c => c.Id == id, ct))
            throw OpenStackError.Conflict($"Conflict occurred attempting to store credential - Duplicate ID, {id}.");
        var cred = new Credential
        {
            Id = id,
            UserId = userId,
            ProjectId = projectId,
            Type = type,
            Blob = blob,
            Extra = body.Extra("id", "user_id", "project_id", "type", "blob", "links").ToJsonString(),
        };
        db.Credentials.Add(cred);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["credential"] = Render(http, cred) }, 201);
    }

    /// <summary>
    /// An EC2 credential made with a trust-scoped, application credential or OAuth1 token records that
    /// delegation, so its signatures give tokens of the same delegation (Keystone's _assign_unique_id).
    /// </summary>
    static string WithDelegation(string blob, Tokens.TokenInfo caller)
    {
        if (caller.TrustId is null && caller.AppCredId is null && caller.AccessTokenId is null) return blob;
        var o = (JsonObject)JsonNode.Parse(blob)!;
        if (caller.TrustId is not null) o["trust_id"] = caller.TrustId;
        if (caller.AppCredId is not null) o["app_cred_id"] = caller.AppCredId;
        if (caller.AccessTokenId is not null) o["access_token_id"] = caller.AccessTokenId;
        return o.ToJsonString();
    }

    static async Task<IResult> Update(HttpContext http, IdentityDb db, string credentialId, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("credential");
        var cred = await FindAsync(http, db, credentialId, "identity:update_credential", ct);
        RequestFields.RequireSomething(body);
        if (body.OptionalString("user_id", 64) is { } userId && userId != cred.UserId)
        {
            http.Enforce("identity:update_credential", Target(userId));
            await Lookup.UserAsync(db, userId, ct);
            cred.UserId = userId;
        }
        if (body.ContainsKey("project_id")) cred.ProjectId = body["project_id"] is null ? null : body.OptionalString("project_id", 64);
        if (body.OptionalString("type") is { } type) cred.Type = type;
        if (body.OptionalString("blob", 65536) is { } blob) cred.Blob = blob;
        Ec2Access(cred.Type, cred.Blob); // an ec2 blob must stay valid; its id stays what it was, as in Keystone
        var extra = body.Extra("id", "user_id", "project_id", "type", "blob", "links");
        if (extra.Count > 0) cred.Extra = Extra.Merge(cred.Extra, extra);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["credential"] = Render(http, cred) });
    }

    static async Task<IResult> Delete(HttpContext http, IdentityDb db, string credentialId, CancellationToken ct)
    {
        var cred = await FindAsync(http, db, credentialId, "identity:delete_credential", ct);
        db.Credentials.Remove(cred);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static JsonObject RenderEc2(HttpContext http, Credential c)
    {
        var blob = JsonNode.Parse(c.Blob) as JsonObject ?? [];
        return new JsonObject
        {
            ["user_id"] = c.UserId,
            ["tenant_id"] = c.ProjectId,
            ["access"] = blob["access"]?.DeepClone(),
            ["secret"] = blob["secret"]?.DeepClone(),
            ["trust_id"] = blob["trust_id"]?.DeepClone(),
            ["links"] = new JsonObject { ["self"] = $"{http.BaseUrl()}/v3/users/{c.UserId}/credentials/OS-EC2/{blob["access"]}" },
        };
    }

    static async Task<IResult> CreateEc2(HttpContext http, IdentityDb db, string userId, CancellationToken ct)
    {
        http.Enforce("identity:ec2_create_credential", Target(userId));
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var tenant = body.RequiredString("tenant_id", 64);
        await Lookup.UserAsync(db, userId, ct);
        await Lookup.ProjectAsync(db, tenant, ct);
        var access = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var cred = new Credential
        {
            Id = Ec2Id(access),
            UserId = userId,
            ProjectId = tenant,
            Type = "ec2",
            Blob = new JsonObject { ["access"] = access, ["secret"] = secret, ["trust_id"] = http.Caller().TrustId }.ToJsonString(),
        };
        db.Credentials.Add(cred);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["credential"] = RenderEc2(http, cred) }, 201);
    }

    static async Task<IResult> ListEc2(HttpContext http, IdentityDb db, string userId, CancellationToken ct)
    {
        http.Enforce("identity:ec2_list_credentials", Target(userId));
        await Lookup.UserAsync(db, userId, ct);
        var creds = await db.Credentials.AsNoTracking().Where(c => c.UserId == userId && c.Type == "ec2").ToListAsync(ct);
        return new JsonResponse(Links.Collection(http, "credentials", creds.Select(c => (JsonNode?)RenderEc2(http, c))));
    }

    static async Task<Credential> FindEc2Async(IdentityDb db, string userId, string access, CancellationToken ct)
    {
        var id = Ec2Id(access);
        return await db.Credentials.FirstOrDefaultAsync(c => c.Id == id && c.UserId == userId && c.Type == "ec2", ct)
            ?? throw OpenStackError.NotFound($"Could not find credential: {id}.");
    }

    static async Task<IResult> GetEc2(HttpContext http, IdentityDb db, string userId, string access, CancellationToken ct)
    {
        http.Enforce("identity:ec2_get_credential", Target(userId));
        return new JsonResponse(new JsonObject { ["credential"] = RenderEc2(http, await FindEc2Async(db, userId, access, ct)) });
    }

    static async Task<IResult> DeleteEc2(HttpContext http, IdentityDb db, string userId, string access, CancellationToken ct)
    {
        http.Enforce("identity:ec2_delete_credential", Target(userId));
        db.Credentials.Remove(await FindEc2Async(db, userId, access, ct));
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
