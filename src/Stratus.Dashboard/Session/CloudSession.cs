using System.Globalization;
using System.Security.Claims;

namespace Stratus.Dashboard.Session;

/// <summary>
/// What a signed-in browser's session holds, in its protected cookie: the tokens (never the password),
/// who the user is, the project the token is scoped to, its roles, and the region the pages act on.
/// </summary>
public sealed record CloudSession
{
    public required string UnscopedToken { get; init; }
    public required string Token { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public required string UserId { get; init; }
    public required string UserName { get; init; }
    public required string DomainName { get; init; }
    public required string ProjectId { get; init; }
    public required string ProjectName { get; init; }
    public required IReadOnlyList<string> Roles { get; init; }
    public required string Region { get; init; }

    public bool IsAdmin => Roles.Contains("admin", StringComparer.Ordinal);

    public const string AdminRole = "admin";
    const string Scheme = "stratus";

    public ClaimsPrincipal ToPrincipal()
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, UserId),
            new(ClaimTypes.Name, UserName),
            new("domain", DomainName),
            new("unscoped_token", UnscopedToken),
            new("token", Token),
            new("expires_at", ExpiresAt.ToString("O", CultureInfo.InvariantCulture)),
            new("project_id", ProjectId),
            new("project_name", ProjectName),
            new("region", Region),
        };
        claims.AddRange(Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme));
    }

    public static CloudSession? From(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true) return null;
        string? Get(string type) => user.FindFirst(type)?.Value;
        if (Get("token") is not { } token || Get("unscoped_token") is not { } unscoped) return null;
        return new CloudSession
        {
            UnscopedToken = unscoped,
            Token = token,
            ExpiresAt = DateTimeOffset.Parse(Get("expires_at") ?? "0001-01-01T00:00:00Z", CultureInfo.InvariantCulture),
            UserId = Get(ClaimTypes.NameIdentifier) ?? "",
            UserName = Get(ClaimTypes.Name) ?? "",
            DomainName = Get("domain") ?? "",
            ProjectId = Get("project_id") ?? "",
            ProjectName = Get("project_name") ?? "",
            Region = Get("region") ?? "",
            Roles = user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToList(),
        };
    }
}
