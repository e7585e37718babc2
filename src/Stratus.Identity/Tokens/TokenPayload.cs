namespace Stratus.Identity.Tokens;

// Provisional shape (helper-1 replaces this file with the full formatter).
public sealed record TokenPayload
{
    public required string UserId { get; init; }
    public required IReadOnlyList<string> Methods { get; init; }
    public string? ProjectId { get; init; }
    public string? DomainId { get; init; }
    public bool System { get; init; }
    public string? AppCredId { get; init; }
    public string? TrustId { get; init; }
    public required DateTime ExpiresAt { get; init; }
    public required IReadOnlyList<string> AuditIds { get; init; }
    public DateTime IssuedAt { get; init; }
}
