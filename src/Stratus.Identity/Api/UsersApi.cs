using Stratus.Identity.Assignment;
using Stratus.Identity.Identity;
using Stratus.Identity.Resource;
using Stratus.Identity.Tokens;
using Stratus.Identity.Trusts;

namespace Stratus.Identity.Api;

/// <summary>/v3/users (keystone/api/users.py): users, their password, projects and groups.</summary>
public static class UsersApi
{
    static readonly string[] Attributes = ["id", "name", "domain_id", "enabled", "password", "default_project_id", "options", "links", "password_expires_at", "federated"];

    public static RouteGroupBuilder MapUsers(this RouteGroupBuilder v3)
    {
        var users = v3.MapGroup("/users");
        users.MapMethods("/", ["GET", "HEAD"], List).RequireToken();
        users.MapPost("/", Create).RequireToken();
        users.MapMethods("/{userId}", ["GET", "HEAD"], Get).RequireToken();
        users.MapPatch("/{userId}", Update).RequireToken();
        users.MapDelete("/{userId}", Delete).RequireToken();
        users.MapPost("/{userId}/password", ChangePassword);
        users.MapMethods("/{userId}/projects", ["GET", "HEAD"], Projects).RequireToken();
        users.MapMethods("/{userId}/groups", ["GET", "HEAD"], Groups).RequireToken();
        return users;
    }

    public static JsonObject Render(HttpContext http, User u)
    {
        var o = new JsonObject
        {
            ["id"] = u.Id,
            ["name"] = u.Name,
            ["domain_id"] = u.DomainId,
            ["enabled"] = u.Enabled,
            ["password_expires_at"] = u.PasswordExpiresAt is { } e ? Time.Iso(e) : null,
            ["options"] = Extra.Parse(u.Options),
            ["links"] = Links.Self(http, "users/" + u.Id),
        };
        if (u.DefaultProjectId is not null) o["default_project_id"] = u.DefaultProjectId;
        return o.WithExtra(u.Extra);
    }

    public static Dictionary<string, string?> Target(User u) =>
        new() { ["target.user.id"] = u.Id, ["target.user.domain_id"] = u.DomainId };

    static readonly string[] UserOptions =
    [
        "ignore_change_password_upon_first_use", "ignore_password_expiry", "ignore_lockout_failure_attempts", "lock_password",
        "ignore_user_inactivity", "multi_factor_auth_rules", "multi_factor_auth_enabled",
    ];

    static async Task<IResult> List(HttpContext http, IdentityDb db, CancellationToken ct)
    {
        var q = http.Request.Query;
        // As Keystone: the policy target is the caller's own domain scope, and a domain-scoped caller sees only that domain.
        var scope = http.Caller().DomainId;
        http.Enforce("identity:list_users", new Dictionary<string, string?> { ["target.domain_id"] = scope });
        var query = db.Users.AsNoTracking();
        if (q["domain_id"].FirstOrDefault() is { } domainId) query = query.Where(u => u.DomainId == domainId);
        if (scope is not null) query = query.Where(u => u.DomainId == scope);
        if (Lookup.QueryBool(q, "enabled") is { } enabled) query = query.Where(u => u.Enabled == enabled);
        foreach (var filter in q["password_expires_at"])
        {
            var (op, at) = ParseExpiryFilter(filter ?? "");
            query = op switch
            {
                "lt" => query.Where(u => u.PasswordExpiresAt < at),
                "lte" => query.Where(u => u.PasswordExpiresAt <= at),
                "gt" => query.Where(u => u.PasswordExpiresAt > at),
                "gte" => query.Where(u => u.PasswordExpiresAt >= at),
                "neq" => query.Where(u => u.PasswordExpiresAt != null && u.PasswordExpiresAt != at),
                _ => query.Where(u => u.PasswordExpiresAt == at),
            };
        }
        var users = await query.OrderBy(u => u.Name).ToListAsync(ct);
        var items = RequestFields.FilterNamed(users.Select(u => Render(http, u)), q, "name");
        return new JsonResponse(Links.Collection(http, "users", items));
    }

    /// <summary>Keystone's <c>password_expires_at={operator}:{timestamp}</c> (operator eq when omitted).</summary>
    static (string Op, DateTime At) ParseExpiryFilter(string value)
    {
        var op = "eq";
        var sep = value.IndexOf(':');
        if (sep > 0 && value[..sep] is "lt" or "lte" or "gt" or "gte" or "eq" or "neq")
        {
            op = value[..sep];
            value = value[(sep + 1)..];
        }
        else if (sep > 0 && !char.IsDigit(value[0]))
            throw OpenStackError.BadRequest($"The given operator {value[..sep]} is not valid. It must be one of the following: 'eq', 'neq', 'lt', 'lte', 'gt', or 'gte'.");
        return DateTime.TryParse(value, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
            ? (op, at)
            : throw OpenStackError.BadRequest("Timestamp not in expected format. The server could not comply with the request since it is either " +
                "malformed or otherwise incorrect. The client is assumed to be in error.");
    }

    static async Task<IResult> Get(HttpContext http, IdentityDb db, string userId, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        http.Enforce("identity:get_user", user is null ? new() { ["target.user.id"] = userId } : Target(user));
        if (user is null) throw OpenStackError.NotFound($"Could not find user: {userId}.");
        return new JsonResponse(new JsonObject { ["user"] = Render(http, user) });
    }

    static string? ReadPassword(JsonObject body)
    {
        if (!body.TryGetPropertyValue("password", out var node) || node is null) return null;
        if (node.GetValueKind() != System.Text.Json.JsonValueKind.String) throw RequestFields.NotOfType("password", node, "string");
        var password = node.GetValue<string>();
        if (password.Length > Passwords.MaxLength)
            throw OpenStackError.BadRequest($"Invalid input for field 'password': the value is longer than {Passwords.MaxLength} characters");
        return password;
    }

    static async Task CheckDefaultProjectAsync(IdentityDb db, string? projectId, CancellationToken ct)
    {
        if (projectId is not null && !await db.Projects.AnyAsync(p => p.Id == projectId, ct))
            throw OpenStackError.NotFound($"Could not find project: {projectId}.");
    }

    static async Task<IResult> Create(HttpContext http, IdentityDb db, IdentityOptions options, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("user");
        var caller = http.Caller();
        var domainId = (body["domain_id"] is null ? null : RequestFields.NonNullString(body, "domain_id", 64))
            ?? caller.DomainId ?? caller.ProjectDomainId ?? Domain.DefaultId;
        http.Enforce("identity:create_user", new Dictionary<string, string?> { ["target.user.domain_id"] = domainId });
        var name = RequestFields.Name(body, "name") ?? throw OpenStackError.BadRequest("'name' is a required property");
        var password = ReadPassword(body);
        var defaultProject = body["default_project_id"] is null ? null : RequestFields.NonNullString(body, "default_project_id", 64);
        if (!await db.Domains.AnyAsync(d => d.Id == domainId, ct)) throw OpenStackError.NotFound($"Could not find domain: {domainId}.");
        await CheckDefaultProjectAsync(db, defaultProject, ct);
        if (await db.Users.AnyAsync(u => u.DomainId == domainId && u.Name == name, ct))
            throw OpenStackError.Conflict($"Conflict occurred attempting to store user - Duplicate entry found with name {name} at domain ID {domainId}.");
        var user = new User
        {
            Id = Links.NewId(),
            Name = name,
            DomainId = domainId,
            Enabled = RequestFields.Bool(body, "enabled") ?? true,
            DefaultProjectId = defaultProject,
            PasswordHash = password is null ? null : await Passwords.HashAsync(password, options.PasswordHashRounds, ct),
            PasswordCreatedAt = password is null ? null : DateTime.UtcNow,
            Extra = body.Extra(Attributes).ToJsonString(),
        };
        if (ProjectsApi.ReadOptions(body, UserOptions) is { } opts) user.Options = opts.ToJsonString();
        db.Users.Add(user);
        await db.SaveChangesAsync(ct);
        return new JsonResponse(new JsonObject { ["user"] = Render(http, user) }, 201);
    }

    static async Task<IResult> Update(HttpContext http, IdentityDb db, IdentityOptions options, string userId, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("user");
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId, ct);
        http.Enforce("identity:update_user", user is null ? new() { ["target.user.id"] = userId } : Target(user));
        if (user is null) throw OpenStackError.NotFound($"Could not find user: {userId}.");
        RequestFields.RequireSomething(body);
        if (body.ContainsKey("id") && body["id"]?.ToString() != userId) throw OpenStackError.BadRequest("Cannot change ID");
        if (body.ContainsKey("domain_id") && body["domain_id"]?.ToString() != user.DomainId)
            throw OpenStackError.BadRequest("Cannot change Domain ID");
        var revoke = false;
        if (RequestFields.Name(body, "name") is { } name && name != user.Name)
        {
            if (await db.Users.AnyAsync(u => u.DomainId == user.DomainId && u.Name == name && u.Id != userId, ct))
                throw OpenStackError.Conflict($"Conflict occurred attempting to store user - Duplicate entry found with name {name} at domain ID {user.DomainId}.");
            user.Name = name;
        }
        if (RequestFields.Bool(body, "enabled") is { } enabled)
        {
            revoke |= user.Enabled && !enabled;
            user.Enabled = enabled;
        }
        if (body.ContainsKey("default_project_id"))
        {
            var project = body["default_project_id"] is null ? null : RequestFields.NonNullString(body, "default_project_id", 64);
            await CheckDefaultProjectAsync(db, project, ct);
            user.DefaultProjectId = project;
        }
        if (body.ContainsKey("password"))
        {
            var password = ReadPassword(body);
            user.PasswordHash = password is null ? null : await Passwords.HashAsync(password, options.PasswordHashRounds, ct);
            user.PasswordCreatedAt = DateTime.UtcNow;
            revoke = true;
        }
        if (ProjectsApi.ReadOptions(body, UserOptions) is { } opts) user.Options = Extra.Merge(user.Options, opts);
        var extra = body.Extra(Attributes);
        if (extra.Count > 0) user.Extra = Extra.Merge(user.Extra, extra);
        await db.SaveChangesAsync(ct);
        if (revoke) await Revocations.RevokeUserAsync(db, userId, ct);
        return new JsonResponse(new JsonObject { ["user"] = Render(http, user) });
    }

    static async Task<IResult> Delete(HttpContext http, IdentityDb db, string userId, CancellationToken ct)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId, ct);
        http.Enforce("identity:delete_user", user is null ? new() { ["target.user.id"] = userId } : Target(user));
        if (user is null) throw OpenStackError.NotFound($"Could not find user: {userId}.");
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.RoleAssignments.Where(a => a.ActorId == userId).ExecuteDeleteAsync(ct);
        await db.GroupMemberships.Where(m => m.UserId == userId).ExecuteDeleteAsync(ct);
        await db.Credentials.Where(c => c.UserId == userId).ExecuteDeleteAsync(ct);
        await db.ApplicationCredentials.Where(c => c.UserId == userId).ExecuteDeleteAsync(ct);
        await db.AccessRules.Where(c => c.UserId == userId).ExecuteDeleteAsync(ct);
        await TrustRules.DeleteAsync(db, t => t.TrustorUserId == userId || t.TrusteeUserId == userId, ct);
        await db.AccessTokens.Where(t => t.AuthorizingUserId == userId).ExecuteDeleteAsync(ct);
        await db.RequestTokens.Where(t => t.AuthorizingUserId == userId).ExecuteDeleteAsync(ct);
        db.Users.Remove(user);
        await Revocations.RevokeUserAsync(db, userId, ct);
        await tx.CommitAsync(ct);
        return Results.NoContent();
    }

    /// <summary>A user changes its own password, proving the old one (no admin token needed, as Keystone).</summary>
    static async Task<IResult> ChangePassword(HttpContext http, IdentityDb db, IdentityOptions options, string userId, CancellationToken ct)
    {
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).Object("user");
        var original = body.OptionalString("original_password", Passwords.MaxLength, allowEmpty: true)
            ?? throw OpenStackError.BadRequest("'original_password' is a required property");
        var password = body.OptionalString("password", Passwords.MaxLength, allowEmpty: true)
            ?? throw OpenStackError.BadRequest("'password' is a required property");
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId, ct);
        if (user is null || !user.Enabled || !await Passwords.VerifyAsync(original, user.PasswordHash, ct))
            throw OpenStackError.Unauthorized("The request you have made requires authentication.");
        user.PasswordHash = await Passwords.HashAsync(password, options.PasswordHashRounds, ct);
        user.PasswordCreatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        await Revocations.RevokeUserAsync(db, userId, ct);
        return Results.NoContent();
    }

    static async Task<IResult> Projects(HttpContext http, IdentityDb db, string userId, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        http.Enforce("identity:list_user_projects", user is null ? new() { ["target.user.id"] = userId } : Target(user));
        if (user is null) throw OpenStackError.NotFound($"Could not find user: {userId}.");
        var projects = await ProjectsOfAsync(db, userId, ct);
        var items = RequestFields.FilterNamed(ProjectsApi.FilterTags(projects, http.Request.Query).Select(p => ProjectsApi.Render(http, p)), http.Request.Query, "name", "enabled", "domain_id");
        return new JsonResponse(Links.Collection(http, "projects", items));
    }

    /// <summary>The projects a user has a role on: directly, through groups, or inherited.</summary>
    public static async Task<List<Project>> ProjectsOfAsync(IdentityDb db, string userId, CancellationToken ct)
    {
        var actors = await RoleResolver.ActorsAsync(db, userId, ct);
        var assigned = await db.RoleAssignments.AsNoTracking().Where(a => actors.Contains(a.ActorId)).ToListAsync(ct);
        var direct = assigned.Where(a => a.Type is AssignmentType.UserProject or AssignmentType.GroupProject).Select(a => a.TargetId).ToHashSet();
        var fromDomains = assigned.Where(a => a.Inherited && a.Type is AssignmentType.UserDomain or AssignmentType.GroupDomain).Select(a => a.TargetId).ToHashSet();
        var fromParents = assigned.Where(a => a.Inherited && a.Type is AssignmentType.UserProject or AssignmentType.GroupProject).Select(a => a.TargetId).ToHashSet();
        var all = await db.Projects.AsNoTracking().Include(p => p.Tags).OrderBy(p => p.Name).ToListAsync(ct);
        var byId = all.ToDictionary(p => p.Id);
        bool Reaches(Project p)
        {
            if (fromDomains.Contains(p.DomainId)) return true;
            if (direct.Contains(p.Id) && assigned.Any(a => a.TargetId == p.Id && !a.Inherited)) return true;
            for (var parent = p.ParentId; parent is not null && byId.TryGetValue(parent, out var pp); parent = pp.ParentId)
                if (fromParents.Contains(parent)) return true;
            return false;
        }
        return all.Where(Reaches).ToList();
    }

    static async Task<IResult> Groups(HttpContext http, IdentityDb db, string userId, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        var target = user is null ? new Dictionary<string, string?> { ["target.user.id"] = userId } : Target(user);
        target["user_id"] = userId;
        http.Enforce("identity:list_groups_for_user", target);
        if (user is null) throw OpenStackError.NotFound($"Could not find user: {userId}.");
        var groupIds = await db.GroupMemberships.AsNoTracking().Where(m => m.UserId == userId).Select(m => m.GroupId).ToListAsync(ct);
        var groups = await db.Groups.AsNoTracking().Where(g => groupIds.Contains(g.Id)).OrderBy(g => g.Name).ToListAsync(ct);
        // Keystone shows when each membership expires; local memberships never do.
        JsonObject Membership(Group g)
        {
            var o = GroupsApi.Render(http, g);
            o["membership_expires_at"] = null;
            return o;
        }
        var items = RequestFields.FilterNamed(groups.Select(Membership), http.Request.Query, "name", "domain_id");
        return new JsonResponse(Links.Collection(http, "groups", items));
    }
}
