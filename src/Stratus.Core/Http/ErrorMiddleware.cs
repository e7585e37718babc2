using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Stratus.Core.Http;

/// <summary>
/// Turns every failure into the service's JSON error body with the right status: an
/// <see cref="OpenStackError"/> as it was thrown, a bad request the framework rejected as 400/413,
/// anything unexpected as a logged 500 that still has an OpenStack-shaped body.
/// </summary>
public sealed class ErrorMiddleware(RequestDelegate next, ILogger<ErrorMiddleware> log, ErrorBodyWriter writer)
{
    public async Task InvokeAsync(HttpContext ctx)
    {
        try
        {
            await next(ctx);
            if (ctx.Response.StatusCode is 404 or 405 && !ctx.Response.HasStarted && ctx.Response.ContentLength is null
                && ctx.GetEndpoint() is null)
            {
                var e = ctx.Response.StatusCode == 405
                    ? OpenStackError.MethodNotAllowed()
                    : OpenStackError.NotFound("The resource could not be found.");
                await WriteAsync(ctx, e);
            }
        }
        catch (OpenStackError e)
        {
            await WriteAsync(ctx, e);
        }
        catch (BadHttpRequestException e)
        {
            var code = e.StatusCode == 413 ? 413 : 400;
            await WriteAsync(ctx, new OpenStackError(code, OpenStackError.TitleFor(code), e.Message));
        }
        catch (JsonException e)
        {
            await WriteAsync(ctx, OpenStackError.BadRequest("Malformed request body: " + e.Message));
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (Exception e)
        {
            log.LogError(e, "Unhandled error for {Method} {Path}", ctx.Request.Method, ctx.Request.Path);
            await WriteAsync(ctx, new OpenStackError(500, "Internal Server Error",
                "An unexpected error prevented the server from fulfilling your request."));
        }
    }

    async Task WriteAsync(HttpContext ctx, OpenStackError e)
    {
        if (ctx.Response.HasStarted) return;
        // Not Response.Clear(): that would drop the request id and Vary headers set before us.
        ctx.Response.StatusCode = e.Code;
        foreach (var (k, v) in e.Headers) ctx.Response.Headers[k] = v;
        ctx.Response.ContentType = "application/json";
        var body = writer(e);
        ctx.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(ctx.Request.Method)) await ctx.Response.Body.WriteAsync(body);
    }
}

/// <summary>Renders an error in one service's dialect (Keystone, Nova and Glance differ).</summary>
public delegate byte[] ErrorBodyWriter(OpenStackError error);

public static class ErrorBodies
{
    /// <summary>Keystone's shape: <c>{"error": {"code": 404, "title": "Not Found", "message": "..."}}</c>.</summary>
    public static byte[] Keystone(OpenStackError e)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteNumber("code", e.Code);
            w.WriteString("title", e.Title);
            w.WriteString("message", e.Message);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>
    /// The fault body of Nova and Cinder (webob faults): <c>{"itemNotFound": {"code": 404, "message": "..."}}</c>,
    /// keyed by the kind of fault, any other being a computeFault. Nova names its 406 notAcceptable; Cinder does not
    /// (<paramref name="namesNotAcceptable"/> false).
    /// </summary>
    public static byte[] Fault(OpenStackError e, bool namesNotAcceptable = true)
    {
        var key = e.Code switch
        {
            400 => "badRequest",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "itemNotFound",
            405 => "badMethod",
            406 when namesNotAcceptable => "notAcceptable",
            409 => "conflictingRequest",
            413 => "overLimit",
            415 => "badMediaType",
            501 => "notImplemented",
            503 => "serviceUnavailable",
            _ => "computeFault",
        };
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartObject(key);
            w.WriteNumber("code", e.Code);
            w.WriteString("message", e.Message);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }
}
