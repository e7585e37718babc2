
namespace Stratus.Identity.Assignment;

/// <summary>
/// Effective roles, as Keystone computes them: direct assignments, those through group membership,
/// inherited ones from the project's domain and ancestors (OS-INHERIT), then implied roles expanded.
/// </summary>
public static class RoleResolver
{
    public static async Task<List<Role>> ForProjectAsync(IdentityDb db, string userId, string projectId, CancellationToken ct)
    {
        var actors = await ActorsAsync(db, userId, ct);
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null) return [];
        var ancestors = await AncestorIdsAsync(db, project.ParentId, ct);
        var direct = await db.RoleAssignments.AsNoTracking()
            .Where(a => actors.Contains(a.ActorId) && (
                (a.TargetId == projectId && !a.Inherited && (a.Type == AssignmentType.UserProject || a.Type == AssignmentType.GroupProject)) ||
                (a.Inherited && a.TargetId == project.DomainId && (a.Type == AssignmentType.UserDomain || a.Type == AssignmentType.GroupDomain)) ||
                (a.Inherited && ancestors.Contains(a.TargetId) && (a.Type == AssignmentType.UserProject || a.Type == AssignmentType.GroupProject))))
            .Select(a => a.RoleId).Distinct().ToListAsync(ct);
        return await ExpandAsync(db, direct, ct);
    }

    public static async Task<List<Role>> ForDomainAsync(IdentityDb db, string userId, string domainId, CancellationToken ct)
    {
        var actors = await ActorsAsync(db, userId, ct);
        var direct = await db.RoleAssignments.AsNoTracking()
            .Where(a => actors.Contains(a.ActorId) && a.TargetId == domainId && !a.Inherited &&
                        (a.Type == AssignmentType.UserDomain || a.Type == AssignmentType.GroupDomain))
            .Select(a => a.RoleId).Distinct().ToListAsync(ct);
        return await ExpandAsync(db, direct, ct);
    }

    public static async Task<List<Role>> ForSystemAsync(IdentityDb db, string userId, CancellationToken ct)
    {
        var actors = await ActorsAsync(db, userId, ct);
        var direct = await db.RoleAssignments.AsNoTracking()
            .Where(a => actors.Contains(a.ActorId) && a.TargetId == RoleAssignment.System &&
                        (a.Type == AssignmentType.UserSystem || a.Type == AssignmentType.GroupSystem))
            .Select(a => a.RoleId).Distinct().ToListAsync(ct);
        return await ExpandAsync(db, direct, ct);
    }

    /// <summary>The user and every group it belongs to: the actors whose assignments count.</summary>
    public static async Task<List<string>> ActorsAsync(IdentityDb db, string userId, CancellationToken ct)
    {
        var actors = await db.GroupMemberships.AsNoTracking().Where(m => m.UserId == userId).Select(m => m.GroupId).ToListAsync(ct);
        actors.Add(userId);
        return actors;
    }

    /// <summary>The ids of a project's ancestors, nearest first, starting from <paramref name="parentId"/>.</summary>
    public static async Task<List<string>> AncestorIdsAsync(IdentityDb db, string? parentId, CancellationToken ct)
    {
        var result = new List<string>();
        while (parentId is not null && result.Count < 64 && !result.Contains(parentId))
        {
            result.Add(parentId);
            var id = parentId;
            parentId = await db.Projects.AsNoTracking().Where(p => p.Id == id).Select(p => p.ParentId).FirstOrDefaultAsync(ct);
        }
        return result;
    }

    /// <summary>Adds every role implied by the given ones, transitively (admin implies member implies reader).</summary>
    public static async Task<List<Role>> ExpandAsync(IdentityDb db, IReadOnlyCollection<string> roleIds, CancellationToken ct)
    {
        if (roleIds.Count == 0) return [];
        var implications = await db.ImpliedRoles.AsNoTracking().ToListAsync(ct);
        var ids = roleIds.SelectMany(id => Closure(implications, id)).ToHashSet();
        // Domain-specific roles only stand for the global roles they imply: they are never effective themselves.
        return await db.Roles.AsNoTracking().Where(r => ids.Contains(r.Id) && r.DomainId == null).OrderBy(r => r.Name).ToListAsync(ct);
    }

    /// <summary>A role and every role it implies through the rules, transitively, each with the role that implied it.</summary>
    public static IEnumerable<(string RoleId, string? PriorRoleId)> ClosureWithPriors(IReadOnlyList<ImpliedRole> rules, string roleId)
    {
        var seen = new HashSet<string> { roleId };
        var queue = new Queue<string>([roleId]);
        yield return (roleId, null);
        while (queue.TryDequeue(out var id))
            foreach (var rule in rules)
                if (rule.PriorRoleId == id && seen.Add(rule.ImpliedRoleId))
                {
                    queue.Enqueue(rule.ImpliedRoleId);
                    yield return (rule.ImpliedRoleId, id);
                }
    }

    public static IEnumerable<string> Closure(IReadOnlyList<ImpliedRole> rules, string roleId) =>
        ClosureWithPriors(rules, roleId).Select(x => x.RoleId);

    /// <summary>Every role reachable from <paramref name="roleId"/> through implication rules, itself included.</summary>
    public static async Task<HashSet<string>> ImpliedClosureAsync(IdentityDb db, string roleId, CancellationToken ct) =>
        Closure(await db.ImpliedRoles.AsNoTracking().ToListAsync(ct), roleId).ToHashSet();
}
