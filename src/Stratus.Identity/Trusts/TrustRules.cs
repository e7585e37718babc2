using System.Linq.Expressions;
using Stratus.Identity.Assignment;
using Stratus.Identity.Identity;
using Stratus.Identity.Resource;

namespace Stratus.Identity.Trusts;

/// <summary>
/// Keystone's rules for trusts (keystone/trust/core.py, keystone/models/token_model.py): when a trust
/// gives tokens, what they carry, and how far it may be redelegated.
/// </summary>
public static class TrustRules
{
    /// <summary>
    /// Not expired and, where a use is needed (a new token, showing the trust), a use left: Keystone's
    /// get_trust. Tokens already issued from the last use stay valid until they expire.
    /// </summary>
    public static bool IsLive(Trust t, DateTime now, bool needsUse = true) =>
        (t.ExpiresAt is not { } expires || expires > now) && (!needsUse || t.RemainingUses is not <= 0);

    /// <summary>
    /// Keystone's _validate_redelegation: <paramref name="child"/> may come from <paramref name="parent"/>
    /// when the parent has redelegations left, the child has no use limit, expires no later, delegates
    /// no role the parent does not and impersonates only if the parent does.
    /// </summary>
    public static bool MayRedelegate(Trust parent, Trust child, int maxRedelegationCount) =>
        parent.RedelegationCount is > 0 and var depth && depth <= maxRedelegationCount
        && child.RemainingUses is null
        && (child.ExpiresAt is not { } childExpiry || parent.ExpiresAt is not { } parentExpiry || parentExpiry >= childExpiry)
        && child.Roles.All(r => parent.Roles.Any(p => p.RoleId == r.RoleId))
        && (parent.Impersonation || !child.Impersonation);

    /// <summary>The trusts <paramref name="trust"/> was redelegated from, nearest first; null when one of them is gone or expired.</summary>
    public static async Task<List<Trust>?> PedigreeAsync(IdentityStore store, Trust trust, int maxRedelegationCount, CancellationToken ct)
    {
        var chain = new List<Trust>();
        for (var t = trust; t.RedelegatedTrustId is { } parentId;)
        {
            // A chain is at most max_redelegation_count long; anything longer is a loop.
            if (chain.Count > maxRedelegationCount || await store.TrustAsync(parentId, ct) is not { } parent || !IsLive(parent, DateTime.UtcNow)) return null;
            chain.Add(t = parent);
        }
        return chain;
    }

    /// <summary>What a token from a trust carries: the trustor, and the delegated roles that are global.</summary>
    public sealed record Delegation(User Trustor, Domain TrustorDomain, List<Role> Roles);

    /// <summary>
    /// The delegation a token from <paramref name="trust"/> carries now, or null when it cannot carry
    /// one: the trustor is gone or disabled or its domain is, a trust up the redelegation chain is
    /// gone or its trustee disabled, or the original trustor no longer holds every delegated role
    /// (implied ones included) on the project.
    /// </summary>
    public static async Task<Delegation?> DelegationAsync(IdentityStore store, Trust trust, int maxRedelegationCount, CancellationToken ct)
    {
        if (trust.ProjectId is null) return null;
        if (await store.UserAsync(trust.TrustorUserId, ct) is not { Enabled: true } trustor
            || await store.DomainAsync(trustor.DomainId, ct) is not { Enabled: true } trustorDomain) return null;
        var original = trust;
        if (await PedigreeAsync(store, trust, maxRedelegationCount, ct) is not { } pedigree) return null;
        foreach (var parent in pedigree)
        {
            if (!MayRedelegate(parent, original, maxRedelegationCount) || await store.UserAsync(parent.TrusteeUserId, ct) is not { Enabled: true }) return null;
            original = parent;
        }
        var held = await store.RoleIdsForProjectAsync(original.TrustorUserId, trust.ProjectId, ct);
        var delegated = await store.ClosureAsync(trust.Roles.Select(r => r.RoleId), ct);
        if (!delegated.IsSubsetOf(held)) return null;
        var roles = await store.GlobalRolesAsync(delegated, ct);
        return roles.Count == 0 ? null : new Delegation(trustor, trustorDomain, roles);
    }

    /// <summary>Deletes the trusts that match, with their roles (a user, project or domain going away takes its trusts along).</summary>
    public static async Task DeleteAsync(IdentityDb db, Expression<Func<Trust, bool>> which, CancellationToken ct)
    {
        var ids = await db.Trusts.Where(which).Select(t => t.Id).ToListAsync(ct);
        if (ids.Count == 0) return;
        await db.TrustRoles.Where(r => ids.Contains(r.TrustId)).ExecuteDeleteAsync(ct);
        await db.Trusts.Where(t => ids.Contains(t.Id)).ExecuteDeleteAsync(ct);
    }
}
