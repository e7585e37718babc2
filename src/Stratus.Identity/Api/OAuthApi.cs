using System.Security.Cryptography;
using Stratus.Identity.OAuth1;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Api;

/// <summary>
/// OAuth1 delegation (keystone/api/os_oauth1.py, the access tokens of keystone/api/users.py): a
/// consumer asks for a request token on a project, a user authorizes it with some of its roles,
/// the consumer trades it for an access token, then gets tokens with the oauth1 auth method.
/// </summary>
public static class OAuthApi
{
    public static RouteGroupBuilder MapOAuth(this RouteGroupBuilder v3)
    {
        var oauth = v3.MapGroup("/OS-OAUTH1");
        oauth.MapPost("/request_token", CreateRequestToken);
        oauth.MapPut("/authorize/{requestTokenId}", Authorize).RequirePolicy("identity:authorize_request_token");
        oauth.MapPost("/access_token", CreateAccessToken);

        var tokens = v3.MapGroup("/users/{userId}/OS-OAUTH1/access_tokens");
        tokens.MapMethods("/", ["GET", "HEAD"], ListAccessTokens).RequirePolicy("identity:list_access_tokens");
        tokens.MapMethods("/{accessTokenId}", ["GET", "HEAD"], GetAccessToken).RequirePolicy("identity:get_access_token");
        tokens.MapDelete("/{accessTokenId}", DeleteAccessToken).RequireToken();
        tokens.MapMethods("/{accessTokenId}/roles", ["GET", "HEAD"], AccessTokenRoles).RequirePolicy("identity:list_access_token_roles");
        tokens.MapMethods("/{accessTokenId}/roles/{roleId}", ["GET", "HEAD"], AccessTokenRole).RequirePolicy("identity:get_access_token_role");
        return v3;
    }

    static string NewId() => Links.NewId();

    static DateTime? ExpiryIn(int seconds) => seconds > 0 ? DateTime.UtcNow.AddSeconds(seconds) : null;

    static bool Expired(DateTime? expiresAt) => expiresAt is { } e && e < DateTime.UtcNow;

    /// <summary>Keystone answers the OAuth endpoints form-encoded, oauth_expires_at when the token expires.</summary>
    static IResult FormToken(string id, string secret, DateTime? expiresAt) =>
        Results.Text($"oauth_token={id}&oauth_token_secret={secret}" + (expiresAt is { } e ? "&oauth_expires_at=" + Time.IsoMicro(e) : ""),
            "application/x-www-form-urlencoded", statusCode: 201);

    /// <summary>POST /v3/OS-OAUTH1/request_token: signed with the consumer's secret, for the project in Requested-Project-Id.</summary>
    static async Task<IResult> CreateRequestToken(HttpContext http, IdentityDb db, IdentityOptions options, CancellationToken ct)
    {
        var request = OAuthRequest.From(http.Request);
        var consumerId = request.ConsumerKey ?? throw Errors.Missing("oauth_consumer_key", "request");
        var projectId = http.Request.Headers["Requested-Project-Id"].ToString();
        if (projectId.Length == 0) throw Errors.Missing("Requested-Project-Id", "request");
        await Lookup.ProjectAsync(db, projectId, ct);
        var consumer = await OAuthConsumersApi.FindAsync(db, consumerId, ct);
        request.CheckParameters(needsCallback: true);
        if (!request.SignatureMatches(consumer.Secret, null)) throw OpenStackError.Unauthorized(); // "Invalid signature"

        var token = new RequestToken
        {
            Id = NewId(),
            Secret = NewId(),
            ConsumerId = consumer.Id,
            RequestedProjectId = projectId,
            ExpiresAt = ExpiryIn(options.OAuthRequestTokenDuration),
        };
        db.RequestTokens.Add(token);
        await db.SaveChangesAsync(ct);
        return FormToken(token.Id, token.Secret, token.ExpiresAt);
    }

    static async Task<RequestToken> RequestTokenAsync(IdentityDb db, string id, CancellationToken ct)
    {
        var token = await db.RequestTokens.FirstOrDefaultAsync(t => t.Id == id, ct) ?? throw OpenStackError.NotFound("Request token not found");
        return Expired(token.ExpiresAt) ? throw OpenStackError.Unauthorized() : token; // "Request token is expired"
    }

    /// <summary>
    /// PUT /v3/OS-OAUTH1/authorize/{id}: the caller (not through a delegation) authorizes the request
    /// with roles it holds on the project; the consumer gets the verifier out of band.
    /// </summary>
    static async Task<IResult> Authorize(HttpContext http, IdentityDb db, IdentityStore store, string requestTokenId, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var roles = RequestFields.RoleRefs(body);
        var caller = http.Caller();
        if (caller.TrustId is not null || caller.IsDelegated) throw OpenStackError.Forbidden(); // "Cannot authorize a request token with a token issued via delegation."
        var token = await RequestTokenAsync(db, requestTokenId, ct);
        var roleIds = new List<string>();
        foreach (var role in roles)
        {
            var roleId = await Lookup.RoleIdAsync(db, role, ct);
            if (!roleIds.Contains(roleId)) roleIds.Add(roleId);
        }
        // Only roles the authorizing user holds on the project ("authorizing user does not have role required").
        var held = (await store.RolesForProjectAsync(caller.UserId, token.RequestedProjectId, ct)).Select(r => r.Id).ToHashSet();
        if (!roleIds.All(held.Contains)) throw OpenStackError.Unauthorized();

        token.AuthorizingUserId = caller.UserId;
        token.Verifier = new string(RandomNumberGenerator.GetItems<char>(OAuthRequest.VerifierChars, 8));
        token.RoleIds = new JsonArray(roleIds.Select(r => (JsonNode?)r).ToArray()).ToJsonString();
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["token"] = new JsonObject { ["oauth_verifier"] = token.Verifier } });
    }

    /// <summary>POST /v3/OS-OAUTH1/access_token: the authorized request token, its verifier, signed with both secrets.</summary>
    static async Task<IResult> CreateAccessToken(HttpContext http, IdentityDb db, IdentityOptions options, CancellationToken ct)
    {
        var request = OAuthRequest.From(http.Request);
        var consumerId = request.ConsumerKey ?? throw Errors.Missing("oauth_consumer_key", "request");
        var requestTokenId = request.Token ?? throw Errors.Missing("oauth_token", "request");
        var verifier = request.Verifier ?? throw Errors.Missing("oauth_verifier", "request");
        var requestToken = await RequestTokenAsync(db, requestTokenId, ct);
        request.CheckParameters(needsToken: true, needsVerifier: true);
        // Keystone's answers when the consumer is unknown or not the token's, the verifier wrong, the signature bad.
        var consumer = await db.OAuthConsumers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == consumerId, ct) ?? throw OpenStackError.Unauthorized();
        if (requestToken.ConsumerId != consumerId || requestToken.Verifier != verifier
            || !request.SignatureMatches(consumer.Secret, requestToken.Secret)) throw OpenStackError.Unauthorized();
        if (requestToken.AuthorizingUserId is null) throw OpenStackError.Unauthorized(); // "Request Token does not have an authorizing user id."

        var access = new AccessToken
        {
            Id = NewId(),
            Secret = NewId(),
            ConsumerId = consumerId,
            AuthorizingUserId = requestToken.AuthorizingUserId,
            ProjectId = requestToken.RequestedProjectId,
            RoleIds = requestToken.RoleIds ?? "[]",
            ExpiresAt = ExpiryIn(options.OAuthAccessTokenDuration),
        };
        db.AccessTokens.Add(access);
        db.RequestTokens.Remove(requestToken); // used
        await db.SaveChangesAsync(ct);
        return FormToken(access.Id, access.Secret, access.ExpiresAt);
    }

    static JsonObject Render(HttpContext http, AccessToken t) => new()
    {
        ["id"] = t.Id,
        ["consumer_id"] = t.ConsumerId,
        ["authorizing_user_id"] = t.AuthorizingUserId,
        ["project_id"] = t.ProjectId,
        ["expires_at"] = t.ExpiresAt is { } e ? Time.IsoMicro(e) : null,
        ["links"] = new JsonObject
        {
            ["self"] = $"{http.BaseUrl()}/v3/users/{t.AuthorizingUserId}/OS-OAUTH1/access_tokens/{t.Id}",
            ["roles"] = $"{http.BaseUrl()}/v3/users/{t.AuthorizingUserId}/OS-OAUTH1/access_tokens/{t.Id}/roles",
        },
    };

    /// <summary>Keystone's _block_delegated_token: access tokens are not managed through a delegation.</summary>
    static void RefuseDelegation(TokenInfo caller)
    {
        if (caller.TrustId is not null || caller.IsDelegated) throw OpenStackError.Forbidden(); // "Cannot manage OAuth access tokens with a token issued via delegation."
    }

    static async Task<AccessToken> UsersAccessTokenAsync(IdentityDb db, string userId, string id, CancellationToken ct)
    {
        var token = await db.AccessTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, ct) ?? throw OpenStackError.NotFound("Access token not found");
        return token.AuthorizingUserId == userId ? token : throw OpenStackError.NotFound($"Could not find access token: {id}.");
    }

    static async Task<IResult> ListAccessTokens(HttpContext http, IdentityDb db, string userId, CancellationToken ct)
    {
        RefuseDelegation(http.Caller());
        var tokens = await db.AccessTokens.AsNoTracking().Where(t => t.AuthorizingUserId == userId).ToListAsync(ct);
        return new JsonResponse(Links.Collection(http, "access_tokens", tokens.Select(t => (JsonNode?)Render(http, t))));
    }

    static async Task<IResult> GetAccessToken(HttpContext http, IdentityDb db, string userId, string accessTokenId, CancellationToken ct)
    {
        RefuseDelegation(http.Caller());
        return new JsonResponse(new JsonObject { ["access_token"] = Render(http, await UsersAccessTokenAsync(db, userId, accessTokenId, ct)) });
    }

    /// <summary>The user (or an admin) withdraws the delegation; the tokens issued for it stop validating.</summary>
    static async Task<IResult> DeleteAccessToken(HttpContext http, IdentityDb db, string userId, string accessTokenId, CancellationToken ct)
    {
        // Keystone enforces the EC2 credential rule here, on the user of the path.
        http.Enforce("identity:ec2_delete_credential", new Dictionary<string, string?> { ["target.credential.user_id"] = userId, ["user_id"] = userId });
        RefuseDelegation(http.Caller());
        var token = await db.AccessTokens.FirstOrDefaultAsync(t => t.Id == accessTokenId, ct) ?? throw OpenStackError.NotFound("Access token not found");
        if (token.AuthorizingUserId != userId) throw OpenStackError.Unauthorized(); // "User IDs do not match"
        db.AccessTokens.Remove(token);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    /// <summary>A delegated role as Keystone shows it: the role without its description.</summary>
    static JsonObject RenderRole(HttpContext http, Assignment.Role r)
    {
        var o = RolesApi.Render(http, r);
        o.Remove("description");
        return o;
    }

    static async Task<List<Assignment.Role>> RolesOfAsync(IdentityDb db, AccessToken token, CancellationToken ct)
    {
        var ids = (JsonNode.Parse(token.RoleIds) as JsonArray ?? []).Select(n => n!.GetValue<string>()).ToList();
        return await db.Roles.AsNoTracking().Where(r => ids.Contains(r.Id)).ToListAsync(ct);
    }

    static async Task<IResult> AccessTokenRoles(HttpContext http, IdentityDb db, string userId, string accessTokenId, CancellationToken ct)
    {
        var token = await UsersAccessTokenAsync(db, userId, accessTokenId, ct);
        return new JsonResponse(Links.Collection(http, "roles", (await RolesOfAsync(db, token, ct)).Select(r => (JsonNode?)RenderRole(http, r))));
    }

    static async Task<IResult> AccessTokenRole(HttpContext http, IdentityDb db, string userId, string accessTokenId, string roleId, CancellationToken ct)
    {
        var token = await UsersAccessTokenAsync(db, userId, accessTokenId, ct);
        var role = (await RolesOfAsync(db, token, ct)).FirstOrDefault(r => r.Id == roleId) ?? throw OpenStackError.NotFound($"Could not find role: {roleId}.");
        return new JsonResponse(new JsonObject { ["role"] = RenderRole(http, role) });
    }
}
