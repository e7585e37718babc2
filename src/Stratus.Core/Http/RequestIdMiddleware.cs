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

public static class RequestIdExtensions
{
    /// <summary>The request's id, as the response's <c>X-Openstack-Request-Id</c> carries it (what user messages and instance actions record).</summary>
    public static string RequestId(this HttpContext http) => http.Items[RequestIdMiddleware.Header] as string ?? "";
}
