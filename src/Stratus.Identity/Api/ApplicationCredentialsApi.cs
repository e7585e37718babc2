using System.Globalization;
using System.Security.Cryptography;
using Stratus.Identity.Identity;

namespace Stratus.Identity.Api;

/// <summary>
/// Application credentials and their access rules, under /v3/users/{user_id}
/// (keystone/api/users.py): a user delegates some of its roles on its current project to a
/// secret that can later authenticate alone. The secret is shown once and stored hashed.
/// </summary>
public static class ApplicationCredentialsApi
{
    public static RouteGroupBuilder MapApplicationCredentials(this RouteGroupBuilder v3)
    {
        var creds = v3.MapGroup("/users/{userId}/application_credentials");
        creds.MapPost("/", Create).RequireToken();
        creds.MapGet("/", List).RequireToken();
        creds.MapMethods("/{credentialId}", ["GET", "HEAD"], Get).RequireToken();
        creds.MapDelete("/{credentialId}", Delete).RequireToken();

        var rules = v3.MapGroup("/users/{userId}/access_rules");
        rules.MapGet("/", ListRules).RequireToken();
        rules.MapMethods("/{ruleId}", ["GET", "HEAD"], GetRule).RequireToken();
        rules.MapDelete("/{ruleId}", DeleteRule).RequireToken();
        return v3;
    }

    static Dictionary<string, string?> Target(string userId) => new() { ["user_id"] = userId, ["target.user.id"] = userId };

    static JsonObject RenderRule(HttpContext http, AccessRule r, bool withLinks)
    {
        var o = new JsonObject { ["id"] = r.Id, ["path"] = r.Path, ["method"] = r.Method, ["service"] = r.Service };
        if (withLinks) o["links"] = Links.Self(http, $"users/{r.UserId}/access_rules/{r.Id}");
        return o;
    }

    static async Task<JsonObject> RenderAsync(HttpContext http, IdentityDb db, ApplicationCredential c, CancellationToken ct)
    {
        var roleIds = Ids(c.RoleIds);
        var ruleIds = Ids(c.AccessRuleIds);
        var roles = await db.Roles.AsNoTracking().Where(r => roleIds.Contains(r.Id)).ToListAsync(ct);
        // In the order the credential was created with, whatever order the database returns them in.
        var rules = (await db.AccessRules.AsNoTracking().Where(r => ruleIds.Contains(r.Id)).ToListAsync(ct))
            .OrderBy(r => ruleIds.IndexOf(r.Id));
        return new JsonObject
        {
            ["id"] = c.Id,
            ["name"] = c.Name,
            ["description"] = c.Description,
            ["user_id"] = c.UserId,
            ["project_id"] = c.ProjectId,
            ["system"] = c.System,
            ["expires_at"] = c.ExpiresAt is { } e ? Time.Iso(e) : null,
            ["unrestricted"] = c.Unrestricted,
            ["roles"] = new JsonArray(roles.Select(r => (JsonNode?)new JsonObject { ["id"] = r.Id, ["name"] = r.Name, ["domain_id"] = r.DomainId }).ToArray()),
            ["access_rules"] = new JsonArray(rules.Select(r => (JsonNode?)RenderRule(http, r, false)).ToArray()),
            ["links"] = Links.Self(http, $"users/{c.UserId}/application_credentials/{c.Id}"),
        };
    }

    static List<string> Ids(string json) =>
        (JsonNode.Parse(json) as JsonArray ?? []).Select(n => n!.GetValue<string>()).ToList();

    static async Task<IResult> Create(HttpContext http, IdentityDb db, IdentityOptions options, string userId, CancellationToken ct)
    {
        http.Enforce("identity:create_application_credential", Target(userId));
        var caller = http.Caller();
        if (caller.UserId != userId) throw OpenStackError.Forbidden("Application credentials can only be created for oneself.");
        if (caller.AppCredId is not null && caller.AppCredRestricted)
            throw OpenStackError.Forbidden("A restricted application credential cannot create another one.");
        if (caller.ProjectId is null)
            throw OpenStackError.BadRequest("Application credentials are bound to a project: use a project-scoped token.");
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("application_credential");
        var name = RequestFields.Name(body, "name") ?? throw OpenStackError.BadRequest("'name' is a required property");
        var secret = body["secret"] is null ? null : RequestFields.NonNullString(body, "secret", 4096, 1);
        DateTime? expires = null;
        if (body["expires_at"] is not null)
        {
            var text = RequestFields.NonNullString(body, "expires_at")!;
            if (!DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
                throw OpenStackError.BadRequest($"Invalid input for field 'expires_at': '{text}' is not a date-time");
            if (parsed <= DateTime.UtcNow) throw OpenStackError.BadRequest("The expiration time of an application credential must be in the future.");
            expires = DateTime.SpecifyKind(parsed, DateTimeKind.Utc);
        }

        // Roles: by default all of the token's; asked-for ones must be among them.
        var held = caller.Roles.ToList();
        var roleIds = new List<string>();
        if (body.OptionalArray("roles") is { } wanted && wanted.Count > 0)
        {
            foreach (var w in wanted)
            {
                var id = w?["id"]?.GetValue<string>();
                var rn = w?["name"]?.GetValue<string>();
                var match = held.FirstOrDefault(r => r.Id == id || (id is null && r.Name == rn));
                if (match.Id is null)
                    throw OpenStackError.NotFound($"Could not find role assignment with role: {id ?? rn}, user or group: {userId}, project, domain, or system: {caller.ProjectId}.");
                roleIds.Add(match.Id);
            }
        }
        else roleIds.AddRange(held.Select(r => r.Id));

        if (await db.ApplicationCredentials.AnyAsync(c => c.UserId == userId && c.Name == name, ct))
            throw OpenStackError.Conflict($"Conflict occurred attempting to store application_credential - Duplicate entry found with name {name}.");

        var ruleIds = new List<string>();
        foreach (var r in body.OptionalArray("access_rules") ?? [])
        {
            if (r is not JsonObject rule) throw OpenStackError.BadRequest("Invalid input for field 'access_rules': items must be objects.");
            if (rule.OptionalString("id", 64) is { } existingId && !rule.ContainsKey("path"))
            {
                if (!await db.AccessRules.AnyAsync(a => a.Id == existingId && a.UserId == userId, ct))
                    throw OpenStackError.NotFound($"Could not find access rule: {existingId}.");
                ruleIds.Add(existingId);
                continue;
            }
            var access = new AccessRule
            {
                Id = Links.NewId(),
                UserId = userId,
                Service = rule.RequiredString("service"),
                Path = rule.RequiredString("path"),
                Method = rule.RequiredString("method", 16),
            };
            var same = await db.AccessRules.FirstOrDefaultAsync(a => a.UserId == userId && a.Service == access.Service && a.Path == access.Path && a.Method == access.Method, ct);
            if (same is null) db.AccessRules.Add(access);
            ruleIds.Add((same ?? access).Id);
        }

        secret ??= Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var cred = new ApplicationCredential
        {
            Id = Links.NewId(),
            Name = name,
            Description = body["description"] is null ? null : RequestFields.NonNullString(body, "description"),
            UserId = userId,
            ProjectId = caller.ProjectId,
            SecretHash = await Passwords.HashAsync(secret, options.PasswordHashRounds, ct),
            ExpiresAt = expires,
            Unrestricted = RequestFields.Bool(body, "unrestricted") ?? false,
            RoleIds = new JsonArray(roleIds.Distinct().Select(id => (JsonNode?)id).ToArray()).ToJsonString(),
            AccessRuleIds = new JsonArray(ruleIds.Distinct().Select(id => (JsonNode?)id).ToArray()).ToJsonString(),
        };
        db.ApplicationCredentials.Add(cred);
        await db.SaveChangesAsync(ct);
        var rendered = await RenderAsync(http, db, cred, ct);
        rendered["secret"] = secret; // shown once, never stored
        return new JsonResponse(new JsonObject { ["application_credential"] = rendered }, 201);
    }

    static async Task<IResult> List(HttpContext http, IdentityDb db, string userId, CancellationToken ct)
    {
        http.Enforce("identity:list_application_credentials", Target(userId));
        var query = db.ApplicationCredentials.AsNoTracking().Where(c => c.UserId == userId);
        if (http.Request.Query["name"].FirstOrDefault() is { } name) query = query.Where(c => c.Name == name);
        var items = new List<JsonNode?>();
        foreach (var c in await query.OrderBy(c => c.Name).ToListAsync(ct)) items.Add(await RenderAsync(http, db, c, ct));
        return new JsonResponse(Links.Collection(http, "application_credentials", items));
    }

    static async Task<ApplicationCredential> FindAsync(IdentityDb db, string userId, string id, CancellationToken ct) =>
        await db.ApplicationCredentials.FirstOrDefaultAsync(c => c.Id == id && c.UserId == userId, ct)
            ?? throw OpenStackError.NotFound($"Could not find Application Credential: {id}.");

    static async Task<IResult> Get(HttpContext http, IdentityDb db, string userId, string credentialId, CancellationToken ct)
    {
        http.Enforce("identity:get_application_credential", Target(userId));
        return new JsonResponse(new JsonObject { ["application_credential"] = await RenderAsync(http, db, await FindAsync(db, userId, credentialId, ct), ct) });
    }

    static async Task<IResult> Delete(HttpContext http, IdentityDb db, string userId, string credentialId, CancellationToken ct)
    {
        http.Enforce("identity:delete_application_credential", Target(userId));
        var caller = http.Caller();
        if (caller.AppCredId is not null && caller.AppCredRestricted)
            throw OpenStackError.Forbidden("A restricted application credential cannot delete application credentials.");
        db.ApplicationCredentials.Remove(await FindAsync(db, userId, credentialId, ct));
        await db.SaveChangesAsync(ct); // tokens issued from it stop validating: they name a credential that is gone
        return Results.NoContent();
    }

    static async Task<IResult> ListRules(HttpContext http, IdentityDb db, string userId, CancellationToken ct)
    {
        http.Enforce("identity:list_access_rules", Target(userId));
        var rules = await db.AccessRules.AsNoTracking().Where(r => r.UserId == userId).ToListAsync(ct);
        var items = RequestFields.Filter(rules.Select(r => RenderRule(http, r, true)), http.Request.Query, "service", "path", "method");
        return new JsonResponse(Links.Collection(http, "access_rules", items));
    }

    static async Task<AccessRule> FindRuleAsync(IdentityDb db, string userId, string id, CancellationToken ct) =>
        await db.AccessRules.FirstOrDefaultAsync(r => r.Id == id && r.UserId == userId, ct)
            ?? throw OpenStackError.NotFound($"Could not find access rule: {id}.");

    static async Task<IResult> GetRule(HttpContext http, IdentityDb db, string userId, string ruleId, CancellationToken ct)
    {
        http.Enforce("identity:get_access_rule", Target(userId));
        return new JsonResponse(new JsonObject { ["access_rule"] = RenderRule(http, await FindRuleAsync(db, userId, ruleId, ct), true) });
    }

    static async Task<IResult> DeleteRule(HttpContext http, IdentityDb db, string userId, string ruleId, CancellationToken ct)
    {
        http.Enforce("identity:delete_access_rule", Target(userId));
        var rule = await FindRuleAsync(db, userId, ruleId, ct);
        var inUse = await db.ApplicationCredentials.AsNoTracking().Where(c => c.UserId == userId).Select(c => c.AccessRuleIds).ToListAsync(ct);
        if (inUse.Any(ids => Ids(ids).Contains(ruleId)))
            throw OpenStackError.Forbidden($"Cannot delete access rule {ruleId}: an application credential uses it.");
        db.AccessRules.Remove(rule);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
