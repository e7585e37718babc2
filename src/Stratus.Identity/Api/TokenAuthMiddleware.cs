using Microsoft.Extensions.DependencyInjection;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Api;

/// <summary>
/// Validates the caller's <c>X-Auth-Token</c> once per request and records who is calling. A request
/// with an invalid token to a route that needs one gets 401 from <see cref="Authorization.Caller"/>.
/// </summary>
/// <remarks>The cache comes through the constructor: an <c>InvokeAsync</c> with parameters beside the
/// context makes UseMiddleware compile an expression tree (System.Linq.Expressions and its JIT'd code).</remarks>
public sealed class TokenAuthMiddleware(RequestDelegate next, TokenCache cache)
{
    public async Task InvokeAsync(HttpContext http)
    {
        var header = http.Request.Headers["X-Auth-Token"];
        if (header.Count == 1 && header[0] is { Length: > 0 } token)
        {
            // The cache first: the token service (and its database context) only on a miss.
            var info = cache.Get(token)
                ?? await http.RequestServices.GetRequiredService<TokenService>().ValidateAsync(token, allowExpired: false, http.RequestAborted);
            if (info is not null) http.SetCaller(info);
        }
        await next(http);
    }
}
