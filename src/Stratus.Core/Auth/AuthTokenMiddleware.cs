using System.Net.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Stratus.Core.Http;
using Stratus.Core.Operations;

namespace Stratus.Core.Auth;

/// <summary>
/// keystonemiddleware's auth_token in front of a regional service: every request but version
/// discovery needs a token the shared identity vouches for. 401 carries
/// <c>WWW-Authenticate: Keystone uri="www_authenticate_uri"</c>; an identity that cannot be asked
/// gives 503 naming the URL that was tried.
/// </summary>
public sealed class AuthTokenMiddleware(RequestDelegate next, TokenValidator validator, ILogger<AuthTokenMiddleware> log,
    AuthTokenOpenPaths openPaths)
{
    public async Task InvokeAsync(HttpContext http)
    {
        if (openPaths.IsOpen(http.Request)) { await next(http); return; }
        var token = http.Request.Headers["X-Auth-Token"].ToString();
        if (token.Length == 0) token = http.Request.Headers["X-Storage-Token"].ToString();
        if (token.Length == 0)
        {
            if (validator.Options.DelayAuthDecision) { await next(http); return; }
            throw Unauthorized();
        }
        Caller? caller;
        try
        {
            caller = await validator.ValidateAsync(token, http.RequestAborted);
        }
        catch (IdentityUnreachableException e)
        {
            log.LogError("Cannot validate a token: {Error}", e.Message);
            throw OpenStackError.Unavailable(e.Message);
        }
        catch (ServiceCredentialsRejectedException e)
        {
            log.LogError("Cannot validate a token: {Error}", e.Message);
            throw OpenStackError.Unavailable(e.Message);
        }
        if (caller is null)
        {
            if (validator.Options.DelayAuthDecision) { await next(http); return; }
            throw Unauthorized();
        }
        http.SetCaller(caller);
        await next(http);
    }

    OpenStackError Unauthorized()
    {
        var e = OpenStackError.Unauthorized();
        e.Headers["WWW-Authenticate"] = $"Keystone uri=\"{validator.Options.WwwAuthenticateUri}\"";
        return e;
    }
}

/// <summary>The paths a service serves without a token (its version discovery).</summary>
public sealed class AuthTokenOpenPaths(params string[] paths)
{
    public bool IsOpen(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        && Array.IndexOf(paths, request.Path.Value?.TrimEnd('/') ?? "") >= 0;
}

public static class AuthTokenServices
{
    /// <summary>
    /// Token validation against the shared identity, configured by <c>[keystone_authtoken]</c>; the
    /// <see cref="KeystoneSession"/> it registers is also how the service calls its peers.
    /// </summary>
    public static IServiceCollection AddAuthToken(this IServiceCollection services, KeystoneAuthtokenOptions options, params string[] openPaths)
    {
        services.AddSingleton(new AuthTokenOpenPaths([.. openPaths.Select(p => p.TrimEnd('/'))]));
        // Cache times are read on this clock; a test host may replace it.
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new KeystoneSession(options, IdentityHttpClient(options)));
        services.AddSingleton<ITokenCache>(sp => options.MemcachedServers.Count > 0
            ? new MemcachedTokenCache(options.MemcachedServers, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<MemcachedTokenCache>())
            : new MemoryTokenCache(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<TokenValidator>();
        return services.AddHealthCheck("identity", (sp, ct) => IdentityProblemAsync(sp.GetRequiredService<KeystoneSession>(), ct));
    }

    /// <summary>Null when the identity of <c>auth_url</c> answers (its version document), else why not.</summary>
    static async Task<string?> IdentityProblemAsync(KeystoneSession session, CancellationToken ct)
    {
        var url = session.Options.AuthUrl;
        try
        {
            using var response = await session.Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
            return (int)response.StatusCode < 500 ? null
                : $"The identity service at {url} ({session.Options.Source} auth_url) answered {(int)response.StatusCode}";
        }
        catch (HttpRequestException e)
        {
            return $"The identity service at {url} ({session.Options.Source} auth_url) is unreachable: {e.Message}";
        }
    }

    public static IApplicationBuilder UseAuthToken(this IApplicationBuilder app) => app.UseMiddleware<AuthTokenMiddleware>();

    static HttpClient IdentityHttpClient(KeystoneAuthtokenOptions options) =>
        new(new SocketsHttpHandler
        {
            ConnectTimeout = options.HttpConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AllowAutoRedirect = false,
        });
}
