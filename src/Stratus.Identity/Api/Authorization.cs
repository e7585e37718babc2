using Stratus.Identity.Tokens;

namespace Stratus.Identity.Api;

/// <summary>
/// Who is calling: the caller's validated token (401 when there is none or it is invalid). Whether they
/// may is Core's policy enforcement (<see cref="Stratus.Core.Policy.PolicyEndpoints"/>) over Keystone's
/// rules, with this token as the credentials (<see cref="Policy.KeystonePolicy"/>).
/// </summary>
public static class Authorization
{
    const string CallerKey = "stratus.caller";

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
}
