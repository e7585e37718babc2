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

    /// <summary>The trust of a trust-scoped token. <see cref="UserId"/> is then its trustee, or its trustor when it impersonates.</summary>
    public string? TrustId { get; init; }
    public string? TrustorUserId { get; init; }
    public string? TrusteeUserId { get; init; }
    public bool TrustImpersonation { get; init; }

    /// <summary>The OAuth1 access token of a token issued for one, and its consumer.</summary>
    public string? AccessTokenId { get; init; }
    public string? ConsumerId { get; init; }

    // Keystone's primary auth methods (keystone/api/_shared/delegation.py): a token from anything else
    // (an application credential, an EC2 credential, an OAuth1 access token) is a delegation.
    static readonly HashSet<string> PrimaryMethods =
        ["external", "kerberos", "mapped", "openid", "password", "saml2", "token", "totp", "x509"];

    /// <summary>Issued for a delegated credential rather than the user itself (no methods at all counts as delegated).</summary>
    public bool IsDelegated => Methods.Count == 0 || !Methods.All(PrimaryMethods.Contains);

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
