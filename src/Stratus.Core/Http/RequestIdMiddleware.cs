using Microsoft.AspNetCore.Http;

namespace Stratus.Core.Http;

/// <summary>Gives every response an <c>X-Openstack-Request-Id</c> as oslo.middleware's request_id does.</summary>
public sealed class RequestIdMiddleware(RequestDelegate next)
{
    public const string Header = "X-Openstack-Request-Id";

    public Task InvokeAsync(HttpContext ctx)
    {
        var id = "req-" + Guid.NewGuid().ToString();
        ctx.Items[Header] = id;
        ctx.Response.Headers[Header] = id;
        return next(ctx);
    }
}
