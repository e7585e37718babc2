using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Session;

/// <summary>Signing in and out, and switching project or region: each rewrites the session cookie.</summary>
public sealed class SessionManager(KeystoneClient keystone, DashboardOptions options)
{
    public const string Scheme = CookieAuthenticationDefaults.AuthenticationScheme;

    /// <summary>
    /// Horizon's login: an unscoped token for the password, the user's projects, a token scoped to the
    /// first of them (or the one the user had last), and the default region when the catalog has it.
    /// </summary>
    public async Task SignInAsync(HttpContext http, string domain, string username, string password, string? lastProject)
    {
        var ct = http.RequestAborted;
        var unscoped = await keystone.LoginAsync(domain, username, password, ct);
        var projects = await keystone.ProjectsAsync(unscoped, ct);
        if (projects.Count == 0)
        {
            await keystone.RevokeAsync(unscoped, ct);
            throw new CloudException(403, "You are not authorized for any projects.");
        }
        var project = projects.FirstOrDefault(p => p.Id == lastProject);
        if (project.Id is null) project = projects[0];
        var scoped = await keystone.ScopeAsync(unscoped, project.Id, ct);
        var (_, raw) = await keystone.CatalogAsync(scoped.Token, ct);
        var regions = Cloud.RegionsOf(raw);
        var region = regions.Contains(options.DefaultRegion ?? "") ? options.DefaultRegion! : regions.FirstOrDefault() ?? options.DefaultRegion ?? "RegionOne";
        await WriteAsync(http, new CloudSession
        {
            UnscopedToken = unscoped,
            Token = scoped.Token,
            ExpiresAt = scoped.ExpiresAt,
            UserId = scoped.UserId,
            UserName = username,
            DomainName = domain,
            ProjectId = scoped.ProjectId,
            ProjectName = scoped.ProjectName,
            Roles = scoped.Roles,
            Region = region,
        });
    }

    public async Task SwitchProjectAsync(HttpContext http, CloudSession session, string projectId)
    {
        var scoped = await keystone.ScopeAsync(session.UnscopedToken, projectId, http.RequestAborted);
        var old = session.Token;
        await WriteAsync(http, session with
        {
            Token = scoped.Token,
            ExpiresAt = scoped.ExpiresAt,
            ProjectId = scoped.ProjectId,
            ProjectName = scoped.ProjectName,
            Roles = scoped.Roles,
        });
        // The project-scoped token of the previous project is of no further use.
        await keystone.RevokeAsync(old, http.RequestAborted);
    }

    public Task SwitchRegionAsync(HttpContext http, CloudSession session, string region) => WriteAsync(http, session with { Region = region });

    /// <summary>Revokes both tokens at the identity, then forgets the session.</summary>
    public async Task SignOutAsync(HttpContext http, CloudSession? session)
    {
        if (session is not null)
        {
            foreach (var token in new[] { session.Token, session.UnscopedToken })
            {
                try
                {
                    await keystone.RevokeAsync(token, http.RequestAborted);
                }
                catch (CloudException)
                {
                    // Signing out must work even when the identity cannot be reached; the cookie goes anyway.
                }
            }
        }
        await http.SignOutAsync(Scheme);
    }

    Task WriteAsync(HttpContext http, CloudSession session)
    {
        var limit = DateTimeOffset.UtcNow.AddSeconds(options.SessionTimeout);
        return http.SignInAsync(Scheme, session.ToPrincipal(), new AuthenticationProperties
        {
            IsPersistent = false,
            ExpiresUtc = session.ExpiresAt < limit ? session.ExpiresAt : limit,
            AllowRefresh = false,
        });
    }
}
