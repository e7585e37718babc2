using Stratus.Identity.Resource;

namespace Stratus.Identity.Assignment;

/// <summary>
/// Effective roles, as Keystone computes them: direct assignments, those through group membership,
/// inherited ones from the project's domain and ancestors (OS-INHERIT), then implied roles expanded.
/// </summary>
public static class RoleResolver
{
    /// <summary>
    /// Whether an assignment of one of the user's actors gives its role on <paramref name="project"/>:
    /// directly, or inherited from the project's domain or from one of its <paramref name="ancestors"/>.
    /// </summary>
    public static bool CountsForProject(RoleAssignment a, Project project, IReadOnlyCollection<string> ancestors) =>
        (a.TargetId == project.Id && !a.Inherited && (a.Type == AssignmentType.UserProject || a.Type == AssignmentType.GroupProject)) ||
        (a.Inherited && a.TargetId == project.DomainId && (a.Type == AssignmentType.UserDomain || a.Type == AssignmentType.GroupDomain)) ||
        (a.Inherited && ancestors.Contains(a.TargetId) && (a.Type == AssignmentType.UserProject || a.Type == AssignmentType.GroupProject));

    public static bool CountsForDomain(RoleAssignment a, string domainId) =>
        a.TargetId == domainId && !a.Inherited && (a.Type == AssignmentType.UserDomain || a.Type == AssignmentType.GroupDomain);

    public static bool CountsForSystem(RoleAssignment a) =>
        a.TargetId == RoleAssignment.System && (a.Type == AssignmentType.UserSystem || a.Type == AssignmentType.GroupSystem);

    /// <summary>The user and every group it belongs to: the actors whose assignments count.</summary>
    public static async Task<List<string>> ActorsAsync(IdentityDb db, string userId, CancellationToken ct)
    {
        var actors = await db.GroupMemberships.AsNoTracking().Where(m => m.UserId == userId).Select(m => m.GroupId).ToListAsync(ct);
        actors.Add(userId);
        return actors;
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
