namespace Stratus.Identity.Trusts;

/// <summary>
/// An OS-TRUST trust (Keystone's trust table): the trustor delegates some of its roles on a project
/// to the trustee, who then gets trust-scoped tokens with those roles only.
/// </summary>
public sealed class Trust
{
    public required string Id { get; set; }
    public required string TrustorUserId { get; set; }
    public required string TrusteeUserId { get; set; }
    public string? ProjectId { get; set; }
    /// <summary>Tokens from the trust show the trustor as their user (else the trustee).</summary>
    public bool Impersonation { get; set; }
    public DateTime? ExpiresAt { get; set; }
    /// <summary>How many more tokens the trust gives; null for no limit.</summary>
    public int? RemainingUses { get; set; }
    /// <summary>The trust this one was redelegated from (created with a token scoped to it).</summary>
    public string? RedelegatedTrustId { get; set; }
    /// <summary>How many times this trust may be redelegated further (0: not at all).</summary>
    public int? RedelegationCount { get; set; }
    public string Extra { get; set; } = "{}";
    public List<TrustRole> Roles { get; set; } = [];
}

/// <summary>A role delegated by a trust (Keystone's trust_role table).</summary>
public sealed class TrustRole
{
    public required string TrustId { get; set; }
    public required string RoleId { get; set; }
}
