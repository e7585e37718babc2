using Stratus.Core.Modules;
using Stratus.Identity.Api;
using Stratus.Identity.Assignment;
using Stratus.Identity.Catalog;
using Stratus.Identity.Identity;
using Stratus.Identity.Resource;
using Stratus.Identity.Tokens;

namespace Stratus.Identity;

/// <summary>The arguments of <c>keystone-manage bootstrap</c>, with Keystone's defaults.</summary>
public sealed record BootstrapArgs
{
    public required string Password { get; init; }
    public string Username { get; init; } = "admin";
    public string ProjectName { get; init; } = "admin";
    public string RoleName { get; init; } = "admin";
    public string ServiceName { get; init; } = "keystone";
    public string? RegionId { get; init; }
    public string? AdminUrl { get; init; }
    public string? InternalUrl { get; init; }
    public string? PublicUrl { get; init; }
}

/// <summary>
/// <c>keystone-manage bootstrap</c>: idempotently ensures the default domain, the admin project and
/// user, the reader/member/admin roles (admin implies member implies reader), the admin's role on
/// the project and on the system, and — when given — a region with the identity endpoints in it.
/// Run again with another region id it adds that region and its endpoints (seed section 4.1).
/// </summary>
public static class Bootstrap
{
    public static async Task<IReadOnlyList<string>> RunAsync(IdentityDb db, BootstrapArgs a, int hashRounds = Passwords.DefaultRounds, CancellationToken ct = default)
    {
        var log = new List<string>();
        if (!await db.Domains.AnyAsync(d => d.Id == Domain.DefaultId, ct))
        {
            db.Domains.Add(new Domain { Id = Domain.DefaultId, Name = "Default", Description = "The default domain" });
            log.Add("Created domain default");
        }

        var project = await db.Projects.FirstOrDefaultAsync(p => p.Name == a.ProjectName && p.DomainId == Domain.DefaultId, ct);
        if (project is null)
        {
            project = new Project { Id = Links.NewId(), Name = a.ProjectName, DomainId = Domain.DefaultId, Description = "Bootstrap project for initializing the cloud." };
            db.Projects.Add(project);
            log.Add($"Created project {a.ProjectName}");
        }

        var user = await db.Users.FirstOrDefaultAsync(u => u.Name == a.Username && u.DomainId == Domain.DefaultId, ct);
        if (user is null)
        {
            user = new User { Id = Links.NewId(), Name = a.Username, DomainId = Domain.DefaultId, PasswordHash = Passwords.Hash(a.Password, hashRounds), PasswordCreatedAt = DateTime.UtcNow };
            db.Users.Add(user);
            log.Add($"Created user {a.Username}");
        }
        else
        {
            if (!user.Enabled) { user.Enabled = true; log.Add($"Enabled user {a.Username}"); }
            if (!Passwords.Verify(a.Password, user.PasswordHash))
            {
                // As Keystone: a changed bootstrap password is applied, and the user's old tokens revoked.
                user.PasswordHash = Passwords.Hash(a.Password, hashRounds);
                user.PasswordCreatedAt = DateTime.UtcNow;
                db.RevocationEvents.Add(new RevocationEvent { UserId = user.Id, IssuedBefore = DateTime.UtcNow, RevokedAt = DateTime.UtcNow });
                log.Add($"Updated the password of user {a.Username}");
            }
        }

        var reader = await EnsureRoleAsync(db, "reader", log, ct);
        var member = await EnsureRoleAsync(db, "member", log, ct);
        var admin = await EnsureRoleAsync(db, a.RoleName, log, ct);
        await EnsureImpliesAsync(db, admin.Id, member.Id, ct);
        await EnsureImpliesAsync(db, member.Id, reader.Id, ct);
        await EnsureAssignmentAsync(db, AssignmentType.UserProject, user.Id, project.Id, admin.Id, ct);
        await EnsureAssignmentAsync(db, AssignmentType.UserSystem, user.Id, RoleAssignment.System, admin.Id, ct);

        if (a.RegionId is not null)
        {
            if (await db.Regions.FindAsync([a.RegionId], ct) is null)
            {
                db.Regions.Add(new Region { Id = a.RegionId });
                log.Add($"Created region {a.RegionId}");
            }
            await EnsureServiceAsync(db, "identity", a.ServiceName, null, a.RegionId,
                [("admin", a.AdminUrl), ("internal", a.InternalUrl), ("public", a.PublicUrl)], log, ct);
        }
        await db.SaveChangesAsync(ct);
        return log;
    }

    /// <summary>
    /// What an installer does for each OpenStack service (the seed's install guide, step by step): the
    /// service's user in the <c>service</c> project with the admin role, the service in the catalog, and
    /// its public, internal and admin endpoints in the region. Idempotent, like bootstrap.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RegisterServiceAsync(IdentityDb db, ServiceRegistration a, int hashRounds = Passwords.DefaultRounds, CancellationToken ct = default)
    {
        var log = new List<string>();
        if (a.Username is not null && a.Password is not null) await EnsureServiceUserAsync(db, a.Username, a.Password, hashRounds, log, ct);
        if (await db.Regions.FindAsync([a.Region], ct) is null)
        {
            db.Regions.Add(new Region { Id = a.Region });
            log.Add($"Created region {a.Region}");
        }
        await EnsureServiceAsync(db, a.Type, a.Name, a.Description, a.Region,
            [("admin", a.Url), ("internal", a.Url), ("public", a.Url)], log, ct);
        await db.SaveChangesAsync(ct);
        return log;
    }

    static async Task EnsureServiceUserAsync(IdentityDb db, string username, string password, int hashRounds, List<string> log, CancellationToken ct)
    {
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Name == "service" && p.DomainId == Domain.DefaultId, ct);
        if (project is null)
        {
            project = new Project { Id = Links.NewId(), Name = "service", DomainId = Domain.DefaultId, Description = "Service Project" };
            db.Projects.Add(project);
            log.Add("Created project service");
        }
        var user = await db.Users.FirstOrDefaultAsync(u => u.Name == username && u.DomainId == Domain.DefaultId, ct);
        if (user is null)
        {
            user = new User { Id = Links.NewId(), Name = username, DomainId = Domain.DefaultId, PasswordHash = Passwords.Hash(password, hashRounds), PasswordCreatedAt = DateTime.UtcNow };
            db.Users.Add(user);
            log.Add($"Created user {username}");
        }
        else if (!Passwords.Verify(password, user.PasswordHash))
        {
            user.PasswordHash = Passwords.Hash(password, hashRounds);
            user.PasswordCreatedAt = DateTime.UtcNow;
            log.Add($"Updated the password of user {username}");
        }
        var admin = await EnsureRoleAsync(db, "admin", log, ct);
        await EnsureAssignmentAsync(db, AssignmentType.UserProject, user.Id, project.Id, admin.Id, ct);
    }

    static async Task EnsureServiceAsync(IdentityDb db, string type, string name, string? description, string region,
        (string Interface, string? Url)[] endpoints, List<string> log, CancellationToken ct)
    {
        var service = db.Services.Local.FirstOrDefault(s => s.Type == type) ?? await db.Services.FirstOrDefaultAsync(s => s.Type == type, ct);
        if (service is null)
        {
            service = new Service { Id = Links.NewId(), Type = type, Name = name, Description = description };
            db.Services.Add(service);
            log.Add($"Created service {name}");
        }
        foreach (var (iface, url) in endpoints)
        {
            if (url is null) continue;
            var existing = await db.Endpoints.FirstOrDefaultAsync(e => e.ServiceId == service.Id && e.Interface == iface && e.RegionId == region, ct);
            if (existing is null)
            {
                db.Endpoints.Add(new Endpoint { Id = Links.NewId(), ServiceId = service.Id, Interface = iface, Url = url, RegionId = region });
                log.Add($"Created {iface} {type} endpoint {url} in {region}");
            }
            else if (existing.Url != url)
            {
                existing.Url = url;
                log.Add($"Updated {iface} {type} endpoint in {region} to {url}");
            }
        }
    }

    static async Task<Role> EnsureRoleAsync(IdentityDb db, string name, List<string> log, CancellationToken ct)
    {
        var role = db.Roles.Local.FirstOrDefault(r => r.Name == name && r.DomainId == null)
            ?? await db.Roles.FirstOrDefaultAsync(r => r.Name == name && r.DomainId == null, ct);
        if (role is not null) return role;
        role = new Role { Id = Links.NewId(), Name = name };
        db.Roles.Add(role);
        log.Add($"Created role {name}");
        return role;
    }

    static async Task EnsureImpliesAsync(IdentityDb db, string prior, string implied, CancellationToken ct)
    {
        if (prior == implied) return;
        if (!await db.ImpliedRoles.AnyAsync(i => i.PriorRoleId == prior && i.ImpliedRoleId == implied, ct))
            db.ImpliedRoles.Add(new ImpliedRole { PriorRoleId = prior, ImpliedRoleId = implied });
    }

    static async Task EnsureAssignmentAsync(IdentityDb db, string type, string actor, string target, string role, CancellationToken ct)
    {
        if (!await db.RoleAssignments.AnyAsync(x => x.Type == type && x.ActorId == actor && x.TargetId == target && x.RoleId == role && !x.Inherited, ct))
            db.RoleAssignments.Add(new RoleAssignment { Type = type, ActorId = actor, TargetId = target, RoleId = role });
    }
}
