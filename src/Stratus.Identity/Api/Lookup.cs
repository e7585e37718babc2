using Stratus.Identity.Assignment;
using Stratus.Identity.Identity;
using Stratus.Identity.Resource;

namespace Stratus.Identity.Api;

/// <summary>Loading a resource by id, or Keystone's 404 ("Could not find user: X.").</summary>
public static class Lookup
{
    public static async Task<User> UserAsync(IdentityDb db, string id, CancellationToken ct) =>
        await db.Users.FirstOrDefaultAsync(u => u.Id == id, ct) ?? throw OpenStackError.NotFound($"Could not find user: {id}.");

    public static async Task<Project> ProjectAsync(IdentityDb db, string id, CancellationToken ct) =>
        await db.Projects.Include(p => p.Tags).FirstOrDefaultAsync(p => p.Id == id, ct) ?? throw OpenStackError.NotFound($"Could not find project: {id}.");

    public static async Task<Domain> DomainAsync(IdentityDb db, string id, CancellationToken ct) =>
        await db.Domains.FirstOrDefaultAsync(d => d.Id == id, ct) ?? throw OpenStackError.NotFound($"Could not find domain: {id}.");

    public static async Task<Group> GroupAsync(IdentityDb db, string id, CancellationToken ct) =>
        await db.Groups.FirstOrDefaultAsync(g => g.Id == id, ct) ?? throw OpenStackError.NotFound($"Could not find group: {id}.");

    public static async Task<Role> RoleAsync(IdentityDb db, string id, CancellationToken ct) =>
        await db.Roles.FirstOrDefaultAsync(r => r.Id == id, ct) ?? throw OpenStackError.NotFound($"Could not find role: {id}.");

    /// <summary>The id of a role given by id or by name (Keystone's get_unique_role_by_name: the one global role of that name).</summary>
    public static async Task<string> RoleIdAsync(IdentityDb db, (string? Id, string? Name) role, CancellationToken ct)
    {
        if (role.Id is not null) return role.Id;
        var ids = await db.Roles.AsNoTracking().Where(r => r.Name == role.Name && r.DomainId == null).Select(r => r.Id).Take(2).ToListAsync(ct);
        return ids.Count switch
        {
            0 => throw OpenStackError.NotFound($"Role {role.Name} is not defined"),
            1 => ids[0],
            _ => throw OpenStackError.BadRequest($"There are multiple role entities named '{role.Name}'. Please use ID instead of names to resolve the ambiguity."),
        };
    }

    /// <summary>A query-string boolean as Keystone reads it ("0", "false" and "False" are false; a bare key is true).</summary>
    public static bool? QueryBool(Microsoft.AspNetCore.Http.IQueryCollection q, string name) =>
        q.TryGetValue(name, out var v) ? v.ToString() is not ("0" or "false" or "False") : null;
}
