using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc.ApplicationModels;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stratus.Core.Hosting;
using Stratus.Core.Operations;
using Stratus.Dashboard.OpenStack;
using Stratus.Dashboard.Session;

namespace Stratus.Dashboard;

/// <summary>
/// The shared web console (Horizon's place in the seed) as a library any host composes: server-rendered
/// Razor Pages under WEBROOT that act on the cloud only through the public APIs found in the token's catalog.
/// </summary>
public static class DashboardService
{
    /// <summary>The Data Protection application name: cookies and form tokens are bound to it.</summary>
    public const string ApplicationName = "stratus-dashboard";
    public const string SessionCookie = "stratus_session";
    public const string CsrfCookie = "stratus_csrf";

    public static IServiceCollection AddDashboard(this IServiceCollection services, DashboardOptions options)
    {
        services.AddSingleton(options);
        if (!options.ServesDashboard) return services;

        var dp = services.AddDataProtection().SetApplicationName(ApplicationName);
        if (options.SecretKeyStore is not null)
        {
            var keys = Directory.CreateDirectory(options.SecretKeyStore);
            if (!OperatingSystem.IsWindows()) keys.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            dp.PersistKeysToFileSystem(keys);
        }

        // One client for every service call; image uploads may take long, each page request bounds its own calls.
        services.AddSingleton(new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), ConnectTimeout = TimeSpan.FromSeconds(10) })
        {
            Timeout = TimeSpan.FromMinutes(30),
        });
        services.AddMemoryCache();
        services.AddHttpContextAccessor();
        services.AddSingleton<KeystoneClient>();
        services.AddSingleton<SessionManager>();
        services.AddScoped<Cloud>();

        services.AddAuthentication(SessionManager.Scheme).AddCookie(SessionManager.Scheme, o =>
        {
            o.Cookie.Name = SessionCookie;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.Path = options.WebRoot.Length == 0 ? "/" : options.WebRoot;
            o.LoginPath = options.WebRoot + "/auth/login";
            o.ReturnUrlParameter = "next";
            o.SlidingExpiration = false;
            // A signed-in user without the admin role gets a plain 403 (rendered by the error page), not a redirect.
            o.Events.OnRedirectToAccessDenied = ctx => { ctx.Response.StatusCode = 403; return Task.CompletedTask; };
            o.Events.OnValidatePrincipal = ctx =>
            {
                // The session ends with its token.
                if (CloudSession.From(ctx.Principal!) is not { } s || s.ExpiresAt <= DateTimeOffset.UtcNow) ctx.RejectPrincipal();
                return Task.CompletedTask;
            };
        });
        services.AddAuthorizationBuilder().AddPolicy(CloudSession.AdminRole, p => p.RequireRole(CloudSession.AdminRole));
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = CsrfCookie;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.HeaderName = "X-CSRF-Token";
        });
        services.AddSingleton<Microsoft.AspNetCore.Antiforgery.IAntiforgeryAdditionalDataProvider, SessionBoundAntiforgery>();
        services.Configure<RouteOptions>(o => o.LowercaseUrls = true);
        services.AddRazorPages(o =>
            {
                o.Conventions.AuthorizeFolder("/");
                o.Conventions.AllowAnonymousToPage("/Auth/Login");
                o.Conventions.AllowAnonymousToPage("/Error");
                o.Conventions.AuthorizeFolder("/Admin", CloudSession.AdminRole);
                o.Conventions.Add(new WebRootConvention(options.WebRoot));
            })
            .ConfigureApplicationPartManager(m =>
            {
                // Pages come from this library, whichever assembly hosts it.
                var self = typeof(DashboardService).Assembly;
                if (m.ApplicationParts.OfType<AssemblyPart>().Any(p => p.Assembly == self)) return;
                // The Razor SDK's factory: the page types and their compiled views.
                foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(self).GetApplicationParts(self)) m.ApplicationParts.Add(part);
            });
        return services;
    }

    /// <summary>The dashboard (or only the root redirect) on the node's address and port.</summary>
    public static WebApplication Build(DashboardOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        // Forms are small; the image upload page lifts the limit for itself.
        var builder = ServiceHost.CreateBuilder(options.BindHost, options.BindPort, maxRequestBodySize: 1 << 20, options.Operations);
        // Keys are written to secret_key_store, readable by the node's user only; nothing to warn about on every start.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        builder.Services.AddDashboard(options);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.UseDashboard();
        app.MapDashboard();
        return app;
    }

    /// <summary>The middleware the pages need: security headers, error pages, session and authorization.</summary>
    public static WebApplication UseDashboard(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<DashboardOptions>();
        app.UseMiddleware<RequestMetricsMiddleware>().UseMiddleware<OperationsMiddleware>();
        app.Use((http, next) =>
        {
            var h = http.Response.Headers;
            h.XContentTypeOptions = "nosniff";
            h.XFrameOptions = "DENY";
            h["Referrer-Policy"] = "same-origin";
            h.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
                "frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
            return next(http);
        });
        if (!options.ServesDashboard) return app;
        app.UseExceptionHandler(options.WebRoot + "/error");
        app.UseStatusCodePagesWithReExecute(options.WebRoot + "/error/{0}");
        app.UseRouting();
        app.UseAuthentication();
        app.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            catch (CloudException e) when (e.Status == 401 && !http.Response.HasStarted)
            {
                // The identity no longer honours the session's token (revoked or expired): sign in again.
                await http.SignOutAsync(SessionManager.Scheme);
                http.Response.Redirect(options.WebRoot + "/auth/login?expired=1");
            }
        });
        app.UseAuthorization();
        return app;
    }

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<DashboardOptions>();
        var home = options.RootRedirect ?? options.WebRoot + "/";
        if (options.WebRoot.Length > 0) app.MapGet("/", () => Results.Redirect(home));
        if (!options.ServesDashboard)
        {
            // A node that only redirects (seed section 7) sends its dashboard URLs there as well.
            if (options.WebRoot.Length > 0) app.MapGet(options.WebRoot + "/{**rest}", () => Results.Redirect(home));
            return app;
        }
        app.MapAssets(options.WebRoot + "/static");
        app.MapRazorPages();
        return app;
    }

    /// <summary>Puts every page under WEBROOT (<c>/dashboard/project/instances</c>).</summary>
    sealed class WebRootConvention(string webRoot) : IPageRouteModelConvention
    {
        public void Apply(PageRouteModel model)
        {
            foreach (var selector in model.Selectors)
                if (selector.AttributeRouteModel is { } route)
                    // An absolute page route ("/project/instances/{id}") is under WEBROOT as well.
                    route.Template = AttributeRouteModel.CombineTemplates(webRoot.TrimStart('/'), route.Template?.TrimStart('~').TrimStart('/'));
        }
    }
}
