using Stratus.Identity.Assignment;

namespace Stratus.Identity.Api;

/// <summary>
/// Role grants on projects, domains and the system, for users and groups, and OS-INHERIT's grants
/// inherited to projects (keystone/api/projects.py, domains.py, system.py, os_inherit.py).
/// </summary>
public static class GrantsApi
{
    /// <summary>Where a grant applies: a project, a domain, or the system.</summary>
    enum Scope { Project, Domain, System }

    sealed record Grant(Scope Scope, string TargetId, bool IsGroup, string ActorId, bool Inherited)
    {
        public string Type => (Scope, IsGroup) switch
        {
            (Scope.Project, false) => AssignmentType.UserProject,
            (Scope.Project, true) => AssignmentType.GroupProject,
            (Scope.Domain, false) => AssignmentType.UserDomain,
            (Scope.Domain, true) => AssignmentType.GroupDomain,
            (Scope.System, false) => AssignmentType.UserSystem,
            _ => AssignmentType.GroupSystem,
        };
    }

    public static RouteGroupBuilder MapGrants(this RouteGroupBuilder v3)
    {
        foreach (var (scope, prefix) in new[] { (Scope.Project, "/projects/{targetId}"), (Scope.Domain, "/domains/{targetId}"), (Scope.System, "/system") })
            foreach (var (isGroup, actor) in new[] { (false, "users"), (true, "groups") })
            {
                var path = $"{prefix}/{actor}/{{actorId}}/roles";
                Grant G(HttpContext http, bool inherited = false) =>
                    new(scope, scope == Scope.System ? RoleAssignment.System : (string)http.GetRouteValue("targetId")!, isGroup, (string)http.GetRouteValue("actorId")!, inherited);
                v3.MapMethods(path, ["GET", "HEAD"], (HttpContext http, IdentityDb db, CancellationToken ct) => List(http, db, G(http), ct)).RequireToken();
                v3.MapPut(path + "/{roleId}", (HttpContext http, IdentityDb db, string roleId, CancellationToken ct) => Create(http, db, G(http), roleId, ct)).RequireToken();
                v3.MapMethods(path + "/{roleId}", ["GET", "HEAD"], (HttpContext http, IdentityDb db, string roleId, CancellationToken ct) => Check(http, db, G(http), roleId, ct)).RequireToken();
                v3.MapDelete(path + "/{roleId}", (HttpContext http, IdentityDb db, string roleId, CancellationToken ct) => Revoke(http, db, G(http), roleId, ct)).RequireToken();
                if (scope == Scope.System) continue;
                // OS-INHERIT: the same grants, inherited by every project below the target.
                var inherit = $"/OS-INHERIT{prefix}/{actor}/{{actorId}}/roles";
                if (scope == Scope.Domain)
                    v3.MapMethods(inherit + "/inherited_to_projects", ["GET", "HEAD"], (HttpContext http, IdentityDb db, CancellationToken ct) => List(http, db, G(http, true), ct)).RequireToken();
                v3.MapPut(inherit + "/{roleId}/inherited_to_projects", (HttpContext http, IdentityDb db, string roleId, CancellationToken ct) => Create(http, db, G(http, true), roleId, ct)).RequireToken();
                v3.MapMethods(inherit + "/{roleId}/inherited_to_projects", ["GET", "HEAD"], (HttpContext http, IdentityDb db, string roleId, CancellationToken ct) => Check(http, db, G(http, true), roleId, ct)).RequireToken();
                v3.MapDelete(inherit + "/{roleId}/inherited_to_projects", (HttpContext http, IdentityDb db, string roleId, CancellationToken ct) => Revoke(http, db, G(http, true), roleId, ct)).RequireToken();
            }
        return v3;
    }

    /// <summary>Loads the grant's target, actor and role (404s as Keystone's), and enforces the rule on them.</summary>
    static async Task<Role?> AuthorizeAsync(HttpContext http, IdentityDb db, Grant g, string? roleId, string action, CancellationToken ct)
    {
        var target = new Dictionary<string, string?>();
        if (g.IsGroup)
        {
            var group = await Lookup.GroupAsync(db, g.ActorId, ct);
            target["target.group.id"] = group.Id;
            target["target.group.domain_id"] = group.DomainId;
        }
        else
        {
            var user = await Lookup.UserAsync(db, g.ActorId, ct);
            target["target.user.id"] = user.Id;
            target["target.user.domain_id"] = user.DomainId;
        }
        string? projectDomain = null;
        if (g.Scope == Scope.Project)
        {
            var project = await Lookup.ProjectAsync(db, g.TargetId, ct);
            target["target.project.id"] = project.Id;
            target["target.project.domain_id"] = projectDomain = project.DomainId;
        }
        else if (g.Scope == Scope.Domain)
        {
            var domain = await Lookup.DomainAsync(db, g.TargetId, ct);
            target["target.domain.id"] = domain.Id;
        }
        Role? role = null;
        if (roleId is not null)
        {
            role = await Lookup.RoleAsync(db, roleId, ct);
            target["target.role.id"] = role.Id;
            target["target.role.domain_id"] = role.DomainId;
        }
        var rule = g.Scope == Scope.System
            ? $"identity:{action}_system_grant{(action == "list" ? "s" : "")}_for_{(g.IsGroup ? "group" : "user")}"
            : $"identity:{action}_grant{(action == "list" ? "s" : "")}";
        http.Enforce(rule, target);
        // Keystone's create_grant checks a domain-specific role's domain only against a project's
        // (DomainSpecificRoleMismatch); a grant on a domain or the system is not checked.
        if (role?.DomainId is { } roleDomain && action == "create" && projectDomain is not null && roleDomain != projectDomain)
            throw OpenStackError.Forbidden($"Project {g.TargetId} must be in the same domain as the role {role.Id} being assigned.");
        return role;
    }

    static async Task<IResult> List(HttpContext http, IdentityDb db, Grant g, CancellationToken ct)
    {
        await AuthorizeAsync(http, db, g, null, "list", ct);
        var roleIds = await db.RoleAssignments.AsNoTracking()
            .Where(a => a.Type == g.Type && a.ActorId == g.ActorId && a.TargetId == g.TargetId && a.Inherited == g.Inherited)
            .Select(a => a.RoleId).ToListAsync(ct);
        var roles = await db.Roles.AsNoTracking().Where(r => roleIds.Contains(r.Id)).OrderBy(r => r.Name).ToListAsync(ct);
        return new JsonResponse(Links.Collection(http, "roles", roles.Select(r => (JsonNode?)RolesApi.Render(http, r))));
    }

    static async Task<IResult> Create(HttpContext http, IdentityDb db, Grant g, string roleId, CancellationToken ct)
    {
        await AuthorizeAsync(http, db, g, roleId, "create", ct);
        if (!await Exists(db, g, roleId, ct))
        {
            db.RoleAssignments.Add(new RoleAssignment { Type = g.Type, ActorId = g.ActorId, TargetId = g.TargetId, RoleId = roleId, Inherited = g.Inherited });
            await db.SaveChangesAsync(ct);
        }
        return Results.NoContent();
    }

    static async Task<IResult> Check(HttpContext http, IdentityDb db, Grant g, string roleId, CancellationToken ct)
    {
        await AuthorizeAsync(http, db, g, roleId, "check", ct);
        return await Exists(db, g, roleId, ct) ? Results.NoContent() : throw NotGranted(g, roleId);
    }

    static async Task<IResult> Revoke(HttpContext http, IdentityDb db, Grant g, string roleId, CancellationToken ct)
    {
        await AuthorizeAsync(http, db, g, roleId, "revoke", ct);
        var n = await db.RoleAssignments
            .Where(a => a.Type == g.Type && a.ActorId == g.ActorId && a.TargetId == g.TargetId && a.RoleId == roleId && a.Inherited == g.Inherited)
            .ExecuteDeleteAsync(ct);
        if (n == 0) throw NotGranted(g, roleId);
        // Tokens re-check their roles on validation; a save (even of nothing) marks the change for the caches.
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static Task<bool> Exists(IdentityDb db, Grant g, string roleId, CancellationToken ct) =>
        db.RoleAssignments.AnyAsync(a => a.Type == g.Type && a.ActorId == g.ActorId && a.TargetId == g.TargetId && a.RoleId == roleId && a.Inherited == g.Inherited, ct);

    static OpenStackError NotGranted(Grant g, string roleId) =>
        OpenStackError.NotFound($"Could not find role assignment with role: {roleId}, {(g.IsGroup ? "group" : "user")}: {g.ActorId}, " +
            $"{g.Scope.ToString().ToLowerInvariant()}: {g.TargetId}, inherited_to_projects: {g.Inherited}.");
}
