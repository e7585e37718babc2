using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Stratus.Core.Catalog;
using Stratus.Core.Http;
using Stratus.Core.Policy;

namespace Stratus.Core.Auth;

/// <summary>
/// The caller of a regional service, from the identity's answer to <c>GET /v3/auth/tokens</c>: what
/// keystonemiddleware passes on as X-User-Id, X-Project-Id, X-Roles, X-Service-Catalog...
/// </summary>
public sealed class Caller
{
    public required string Token { get; init; }
    public required string UserId { get; init; }
    public required string UserName { get; init; }
    public string? UserDomainId { get; init; }
    public string? ProjectId { get; init; }
    public string? ProjectName { get; init; }
    public string? ProjectDomainId { get; init; }
    public string? DomainId { get; init; }
    public bool SystemScope { get; init; }
    public required IReadOnlySet<string> Roles { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public required ServiceCatalog Catalog { get; init; }

    /// <summary>OpenStack's <c>context.is_admin</c>: the admin role (the services' <c>context_is_admin</c> rule).</summary>
    public bool IsAdmin => Roles.Contains("admin");

    PolicyCredentials? _creds;

    public PolicyCredentials Credentials => _creds ??= new PolicyCredentials
    {
        Roles = Roles,
        Fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["user_id"] = UserId,
            ["project_id"] = ProjectId,
            ["tenant"] = ProjectId,
            // Neutron's rules name the project tenant_id (its owner check).
            ["tenant_id"] = ProjectId,
            ["project_domain_id"] = ProjectDomainId,
            ["user_domain_id"] = UserDomainId,
            ["domain_id"] = DomainId,
            ["system_scope"] = SystemScope ? "all" : null,
            ["is_admin"] = IsAdmin ? "true" : "false",
        },
    };

    /// <summary>Parses the body of <c>GET /v3/auth/tokens</c>; null when it is not a token.</summary>
    public static Caller? FromTokenBody(string token, JsonObject? body)
    {
        if (body?["token"] is not JsonObject t || t["user"] is not JsonObject user) return null;
        if (!DateTimeOffset.TryParse((string?)t["expires_at"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires))
            return null;
        var roles = (t["roles"] as JsonArray ?? []).Select(r => ((string?)r?["name"])?.ToLowerInvariant())
            .OfType<string>().ToHashSet(StringComparer.Ordinal);
        return new Caller
        {
            Token = token,
            UserId = (string?)user["id"] ?? "",
            UserName = (string?)user["name"] ?? "",
            UserDomainId = (string?)user["domain"]?["id"],
            ProjectId = (string?)t["project"]?["id"],
            ProjectName = (string?)t["project"]?["name"],
            ProjectDomainId = (string?)t["project"]?["domain"]?["id"],
            DomainId = (string?)t["domain"]?["id"],
            SystemScope = t["system"] is JsonObject,
            Roles = roles,
            ExpiresAt = expires,
            Catalog = new ServiceCatalog(t["catalog"] as JsonArray ?? []),
        };
    }
}

public static class CallerExtensions
{
    const string Key = "stratus.caller";

    /// <summary>The validated caller; 401 when the request carried no valid token.</summary>
    public static Caller Caller(this HttpContext http) =>
        http.Items[Key] as Caller ?? throw OpenStackError.Unauthorized();

    public static Caller? CallerOrNull(this HttpContext http) => http.Items[Key] as Caller;

    internal static void SetCaller(this HttpContext http, Caller caller) => http.Items[Key] = caller;
}
