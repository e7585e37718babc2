using Microsoft.Extensions.DependencyInjection;
using Stratus.Core.Policy;
using Stratus.Identity.Policy;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Api;

/// <summary>
/// How handlers ask "who is calling, and may they": the caller's validated token (401 when there is
/// none or it is invalid) and Keystone's policy rules (403). Rules that need no target are declared on
/// the route with <see cref="RequirePolicy{T}"/>; rules about a loaded object are enforced in the
/// handler with <see cref="Enforce"/>.
/// </summary>
public static class Authorization
{
    const string CallerKey = "stratus.caller";

    public static TBuilder RequirePolicy<TBuilder>(this TBuilder builder, string rule) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (ctx, next) =>
        {
            var http = ctx.HttpContext;
            http.Enforce(rule);
            return await next(ctx);
        });

    /// <summary>Only a valid token is required; the handler enforces a rule with a target.</summary>
    public static TBuilder RequireToken<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (ctx, next) =>
        {
            ctx.HttpContext.Caller();
            return await next(ctx);
        });

    /// <summary>The caller's validated token. Set by <see cref="TokenAuthMiddleware"/>; 401 when absent.</summary>
    public static TokenInfo Caller(this HttpContext http) =>
        http.Items[CallerKey] as TokenInfo ?? throw OpenStackError.Unauthorized();

    public static TokenInfo? CallerOrNull(this HttpContext http) => http.Items[CallerKey] as TokenInfo;

    internal static void SetCaller(this HttpContext http, TokenInfo token) => http.Items[CallerKey] = token;

    /// <summary>Throws 403 unless Keystone's rule allows the caller on this target.</summary>
    public static void Enforce(this HttpContext http, string rule, IReadOnlyDictionary<string, string?>? target = null)
    {
        var caller = http.Caller();
        http.RequestServices.GetRequiredService<PolicyEngine>().Enforce(rule, caller.Credentials, target);
    }

    public static bool IsAllowed(this HttpContext http, string rule, IReadOnlyDictionary<string, string?>? target = null) =>
        http.RequestServices.GetRequiredService<PolicyEngine>().IsAllowed(rule, http.Caller().Credentials, target);
}
