
namespace Stratus.Identity.Tokens;

/// <summary>
/// Records revocation events (Keystone's revoke API) and answers whether a token is revoked. Events
/// live in the shared database so every identity node honours them; this node keeps them in memory
/// and re-reads new ones at most once a second, so validation stays a memory lookup.
/// </summary>
public sealed class Revocations(IdentityStore store, IdentityGeneration generation)
{
    readonly object _gate = new();
    List<RevocationEvent> _events = [];
    long _lastId;
    long _loadedAt;

    public static Task RevokeUserAsync(IdentityDb db, string userId, CancellationToken ct = default) =>
        AddAsync(db, new RevocationEvent { UserId = userId }, ct);

    public static Task RevokeProjectAsync(IdentityDb db, string projectId, CancellationToken ct = default) =>
        AddAsync(db, new RevocationEvent { ProjectId = projectId }, ct);

    public static Task RevokeDomainAsync(IdentityDb db, string domainId, CancellationToken ct = default) =>
        AddAsync(db, new RevocationEvent { DomainId = domainId }, ct);

    public static Task RevokeAuditIdAsync(IdentityDb db, string auditId, CancellationToken ct = default) =>
        AddAsync(db, new RevocationEvent { AuditId = auditId }, ct);

    public static Task RevokeAuditChainAsync(IdentityDb db, string auditChainId, CancellationToken ct = default) =>
        AddAsync(db, new RevocationEvent { AuditChainId = auditChainId }, ct);

    static async Task AddAsync(IdentityDb db, RevocationEvent e, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        e.IssuedBefore = now;
        e.RevokedAt = now;
        db.RevocationEvents.Add(e);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// True when an event matches the token: its user (or, for a trust-scoped token, the trust's
    /// trustor, as Keystone's revoke model matches user events), project, domain, or audit id/chain.
    /// </summary>
    public async ValueTask<bool> IsRevokedAsync(TokenPayload t, string? projectDomainId, string userDomainId, CancellationToken ct, string? trustorId = null)
    {
        await RefreshAsync(ct);
        var events = _events;
        var auditId = t.AuditIds.Count > 0 ? t.AuditIds[0] : null;
        var chainId = t.AuditIds.Count > 1 ? t.AuditIds[1] : auditId;
        foreach (var e in events)
        {
            if (e.IssuedBefore < t.IssuedAt) continue;
            if (e.UserId is not null && e.UserId != t.UserId && e.UserId != trustorId) continue;
            if (e.ProjectId is not null && e.ProjectId != t.ProjectId) continue;
            if (e.DomainId is not null && e.DomainId != t.DomainId && e.DomainId != projectDomainId && e.DomainId != userDomainId) continue;
            if (e.AuditId is not null && e.AuditId != auditId) continue;
            if (e.AuditChainId is not null && e.AuditChainId != chainId) continue;
            if (e.UserId is null && e.ProjectId is null && e.DomainId is null && e.AuditId is null && e.AuditChainId is null) continue;
            return true;
        }
        return false;
    }

    async ValueTask RefreshAsync(CancellationToken ct)
    {
        var now = Environment.TickCount64;
        var gen = generation.Value;
        if (now - Volatile.Read(ref _loadedAt) < 1000 && gen == _seenGeneration) return;
        var since = _lastId;
        var fresh = await store.RevocationEventsAfterAsync(since, ct);
        lock (_gate)
        {
            if (fresh.Count > 0)
            {
                // Events older than the longest token lifetime can match nothing still valid.
                var horizon = DateTime.UtcNow.AddDays(-2);
                var list = _events.Where(e => e.RevokedAt > horizon).ToList();
                foreach (var e in fresh)
                    if (e.Id > _lastId)
                    {
                        list.Add(e);
                        _lastId = e.Id;
                        if (e.IssuedBefore > LatestRevocation) LatestRevocation = e.IssuedBefore;
                    }
                _events = list;
            }
            _seenGeneration = gen;
            Volatile.Write(ref _loadedAt, now);
        }
    }

    long _seenGeneration = -1;

    /// <summary>When the newest revocation this node knows of was recorded.</summary>
    public DateTime LatestRevocation { get; private set; }
}

/// <summary>
/// A counter bumped on every write to the identity database by this node: cached token validations
/// and catalogs older than the current value are recomputed.
/// </summary>
public sealed class IdentityGeneration
{
    long _value;
    public long Value => Volatile.Read(ref _value);
    public void Bump() => Interlocked.Increment(ref _value);
}
