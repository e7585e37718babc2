using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Identity.Assignment;
using Stratus.Identity.Catalog;
using Stratus.Identity.Data;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Api;

/// <summary>/v3/auth: tokens, and what the caller's token can reach (keystone/api/auth.py).</summary>
public static class AuthApi
{
    public static RouteGroupBuilder MapAuth(this RouteGroupBuilder v3)
    {
        var auth = v3.MapGroup("/auth");
        auth.MapPost("/tokens", Issue);
        auth.MapGet("/tokens", Validate).RequireToken();
        auth.MapMethods("/tokens", ["HEAD"], Check).RequireToken();
        auth.MapDelete("/tokens", Revoke).RequireToken();
        auth.MapGet("/catalog", Catalog).RequirePolicy("identity:get_auth_catalog");
        auth.MapGet("/projects", Projects).RequirePolicy("identity:get_auth_projects");
        auth.MapGet("/domains", Domains).RequirePolicy("identity:get_auth_domains");
        auth.MapGet("/system", SystemScopes).RequirePolicy("identity:get_auth_system");
        return auth;
    }

    static async Task<IResult> Issue(HttpContext http, TokenService tokens, CancellationToken ct)
    {
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var info = await tokens.IssueAsync(body, ct, http.Request);
        var rendered = await tokens.RenderAsync(info, includeCatalog: !http.Request.Query.ContainsKey("nocatalog"), ct);
        return new JsonResponse(rendered, 201).WithHeader("X-Subject-Token", info.Token);
    }

    /// <summary>The subject token, 404 when invalid (Keystone's TokenNotFound).</summary>
    static async Task<TokenInfo> SubjectAsync(HttpContext http, TokenCache cache, string rule, CancellationToken ct)
    {
        var subject = http.Request.Headers["X-Subject-Token"].ToString();
        if (subject.Length == 0) throw OpenStackError.BadRequest("X-Subject-Token header is required.");
        var allowExpired = http.Request.Query["allow_expired"] is var v && v.Count > 0 && v[0] is "1" or "true" or "True";
        var info = (allowExpired ? null : cache.Get(subject))
            ?? await http.RequestServices.GetRequiredService<TokenService>().ValidateAsync(subject, allowExpired, ct);
        // As Keystone: the policy target is built from the subject token, so an invalid one is a 404 first.
        if (info is null) throw OpenStackError.NotFound("Could not find token: " + subject);
        http.Enforce(rule, new Dictionary<string, string?> { ["target.token.user_id"] = info.UserId });
        return info;
    }

    static async Task<IResult> Validate(HttpContext http, TokenCache cache, CancellationToken ct)
    {
        var info = await SubjectAsync(http, cache, "identity:validate_token", ct);
        var withCatalog = !http.Request.Query.ContainsKey("nocatalog");
        var bytes = cache.GetBody(info.Token, withCatalog);
        if (bytes is null)
        {
            var tokens = http.RequestServices.GetRequiredService<TokenService>();
            bytes = JsonSerializer.SerializeToUtf8Bytes<JsonNode>(await tokens.RenderAsync(info, withCatalog, ct));
            cache.PutBody(info.Token, withCatalog, bytes);
        }
        return JsonResponse.FromBytes(bytes).WithHeader("X-Subject-Token", info.Token);
    }

    static async Task<IResult> Check(HttpContext http, TokenCache cache, CancellationToken ct)
    {
        var info = await SubjectAsync(http, cache, "identity:check_token", ct);
        http.Response.Headers["X-Subject-Token"] = info.Token;
        return Results.Ok();
    }

    static async Task<IResult> Revoke(HttpContext http, TokenCache cache, IdentityDb db, CancellationToken ct)
    {
        var info = await SubjectAsync(http, cache, "identity:revoke_token", ct);
        await Revocations.RevokeAuditIdAsync(db, info.AuditIds[0], ct);
        return Results.NoContent();
    }

    static async Task<IResult> Catalog(HttpContext http, CatalogBuilder catalog, CancellationToken ct)
    {
        var caller = http.Caller();
        if (!caller.IsScoped)
            throw OpenStackError.Forbidden("A project-scoped token is required to produce a service catalog.");
        var body = new JsonObject
        {
            ["catalog"] = await catalog.BuildAsync(caller.ProjectId, caller.UserId, ct),
            ["links"] = new JsonObject { ["self"] = $"{http.BaseUrl()}/v3/auth/catalog", ["previous"] = null, ["next"] = null },
        };
        return new JsonResponse(body);
    }

    static async Task<IResult> Projects(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var enabledDomains = (await db.Domains.AsNoTracking().Where(d => d.Enabled).Select(d => d.Id).ToListAsync(ct)).ToHashSet();
        // Only what the caller could scope a token to: enabled projects in enabled domains.
        var projects = (await UsersApi.ProjectsOfAsync(db, caller.UserId, ct)).Where(p => p.Enabled && enabledDomains.Contains(p.DomainId));
        return new JsonResponse(Links.Collection(http, "projects", projects.Select(p => (JsonNode?)ProjectsApi.Render(http, p))));
    }

    static async Task<IResult> Domains(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var actors = await RoleResolver.ActorsAsync(db, caller.UserId, ct);
        var domainIds = await db.RoleAssignments.AsNoTracking()
            .Where(a => actors.Contains(a.ActorId) && !a.Inherited && (a.Type == AssignmentType.UserDomain || a.Type == AssignmentType.GroupDomain))
            .Select(a => a.TargetId).Distinct().ToListAsync(ct);
        var domains = await db.Domains.AsNoTracking().Where(d => domainIds.Contains(d.Id) && d.Enabled).OrderBy(d => d.Name).ToListAsync(ct);
        var items = domains.Select(d => (JsonNode?)DomainsApi.Render(http, d));
        return new JsonResponse(Links.Collection(http, "domains", items));
    }

    static async Task<IResult> SystemScopes(HttpContext http, IdentityStore store, CancellationToken ct)
    {
        var caller = http.Caller();
        var roles = await store.RolesForSystemAsync(caller.UserId, ct);
        var system = new JsonArray();
        if (roles.Count > 0) system.Add(new JsonObject { ["all"] = true });
        return new JsonResponse(new JsonObject
        {
            ["system"] = system,
            ["links"] = new JsonObject { ["self"] = $"{http.BaseUrl()}/v3/auth/system", ["previous"] = null, ["next"] = null },
        });
    }
}
