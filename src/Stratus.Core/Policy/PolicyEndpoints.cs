using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Stratus.Core.Policy;

/// <summary>
/// How handlers ask "may the caller": rules without a target are declared on the route with
/// <see cref="RequirePolicy{TBuilder}"/>; rules about a loaded object are enforced in the handler with
/// <see cref="Enforce"/> (or asked with <see cref="IsAllowed"/> to filter a list).
/// </summary>
public static class PolicyEndpoints
{
    /// <summary>Registers the service's <see cref="PolicyEnforcer"/>; a broken policy file fails here, at start.</summary>
    public static IServiceCollection AddPolicy(this IServiceCollection services, PolicyOptions options) =>
        services.AddSingleton(new PolicyEnforcer(options));

    public static TBuilder RequirePolicy<TBuilder>(this TBuilder builder, string rule) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter((ctx, next) =>
        {
            ctx.HttpContext.Enforce(rule);
            return next(ctx);
        });

    public static void Enforce(this HttpContext http, string rule, IReadOnlyDictionary<string, string?>? target = null) =>
        http.RequestServices.GetRequiredService<PolicyEnforcer>().Enforce(http, rule, target);

    public static bool IsAllowed(this HttpContext http, string rule, IReadOnlyDictionary<string, string?>? target = null) =>
        http.RequestServices.GetRequiredService<PolicyEnforcer>().IsAllowed(http, rule, target);
}
