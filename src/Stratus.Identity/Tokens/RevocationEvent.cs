namespace Stratus.Identity.Tokens;

/// <summary>
/// A revocation as Keystone records it: every token matching the non-null fields and issued before
/// <see cref="IssuedBefore"/> is invalid. Kept in the shared database so that every identity node
/// sharing it honours the revocation.
/// </summary>
public sealed class RevocationEvent
{
    public long Id { get; set; }
    public string? DomainId { get; set; }
    public string? ProjectId { get; set; }
    public string? UserId { get; set; }
    public string? RoleId { get; set; }
    public string? AuditId { get; set; }
    public string? AuditChainId { get; set; }
    public DateTime IssuedBefore { get; set; }
    public DateTime? ExpiresAt { get; set; }
    public DateTime RevokedAt { get; set; }
}
