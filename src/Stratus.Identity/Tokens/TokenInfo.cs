using Stratus.Core.Policy;
using Stratus.Identity.Policy;

namespace Stratus.Identity.Tokens;

/// <summary>A validated token: who, scoped to what, with which roles. What handlers and policy see.</summary>
public sealed class TokenInfo
{
    public required string Token { get; init; }
    public required string UserId { get; init; }
    public required string UserName { get; init; }
    public required string UserDomainId { get; init; }
    public required string UserDomainName { get; init; }
    public DateTime? PasswordExpiresAt { get; init; }
    public required IReadOnlyList<string> Methods { get; init; }
    public required DateTime IssuedAt { get; init; }
    public required DateTime ExpiresAt { get; init; }
    public required IReadOnlyList<string> AuditIds { get; init; }

    public string? ProjectId { get; init; }
    public string? ProjectName { get; init; }
    public string? ProjectDomainId { get; init; }
    public string? ProjectDomainName { get; init; }
    public string? DomainId { get; init; }
    public string? DomainName { get; init; }
    public bool System { get; init; }

    public string? AppCredId { get; init; }
    public string? AppCredName { get; init; }
    public bool AppCredRestricted { get; init; }

    /// <summary>Effective roles (implied roles expanded) on the scope; empty when unscoped.</summary>
    public required IReadOnlyList<(string Id, string Name)> Roles { get; init; }

    public bool IsScoped => ProjectId is not null || DomainId is not null || System;

    PolicyCredentials? _creds;

    /// <summary>The fields oslo.policy checks see, as Keystone's RBAC enforcer builds them.</summary>
    public PolicyCredentials Credentials => _creds ??= new PolicyCredentials
    {
        Roles = Roles.Select(r => r.Name.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal),
        Fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["user_id"] = UserId,
            ["user_domain_id"] = UserDomainId,
            ["project_id"] = ProjectId,
            ["project_domain_id"] = ProjectDomainId,
            ["domain_id"] = DomainId,
            ["system_scope"] = System ? "all" : null,
            ["token.domain.id"] = DomainId,
            ["token.project.domain.id"] = ProjectDomainId,
            ["token.user.domain.id"] = UserDomainId,
        },
    };

    public bool HasRole(string name) => Credentials.Roles.Contains(name.ToLowerInvariant());
}
