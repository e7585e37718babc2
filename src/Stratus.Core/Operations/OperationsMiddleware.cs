using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Prometheus;

namespace Stratus.Core.Operations;

/// <summary>
/// Counts and times every request by method, route template and status; outermost in the pipeline, so
/// errors, refusals and the operations endpoints are counted with the status the client got.
/// </summary>
public sealed class RequestMetricsMiddleware(RequestDelegate next, ServiceMetrics metrics)
{
    /// <summary>A group's own route ("" under "/volumes") is "/volumes/" in the template: the label drops that slash.</summary>
    static string Template(string template) => template.Length > 1 && template[^1] == '/' ? template[..^1] : template;

    public async Task InvokeAsync(HttpContext http)
    {
        var start = Stopwatch.GetTimestamp();
        var status = 500;
        try
        {
            await next(http);
            status = http.Response.StatusCode;
        }
        finally
        {
            var path = http.Request.Path.Value;
            var route = path is OperationsMiddleware.HealthcheckPath or OperationsMiddleware.MetricsPath ? path
                : (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText is { } template ? Template(template) : "unmatched";
            // A client chooses the method: only the known ones become labels, so no client can grow the series without bound.
            var method = http.Request.Method is "GET" or "HEAD" or "POST" or "PUT" or "PATCH" or "DELETE" or "OPTIONS" ? http.Request.Method : "other";
            string[] labels = [method, route, status.ToString(CultureInfo.InvariantCulture)];
            metrics.Requests.WithLabels(labels).Inc();
            metrics.RequestDuration.WithLabels(labels).Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }
}

/// <summary>
/// oslo.middleware's <c>/healthcheck</c> (200 "OK", or 503 with the reasons; HEAD 204 or 503; text, HTML
/// or JSON as Accept asks) and the Prometheus <c>/metrics</c> for the addresses the service's config allows.
/// Both come before the token check: load balancers and Prometheus have no token.
/// </summary>
public sealed class OperationsMiddleware(RequestDelegate next, ServiceMetrics metrics, OperationsOptions options,
    IEnumerable<ServiceHealthCheck> checks, IServiceProvider services)
{
    public const string HealthcheckPath = "/healthcheck", MetricsPath = "/metrics";

    readonly ServiceHealthCheck[] _checks = [.. checks];

    public Task InvokeAsync(HttpContext http)
    {
        var get = HttpMethods.IsGet(http.Request.Method);
        var head = HttpMethods.IsHead(http.Request.Method);
        if (!get && !head) return next(http);
        return http.Request.Path.Value switch
        {
            HealthcheckPath => HealthcheckAsync(http, head),
            MetricsPath => MetricsAsync(http, head),
            _ => next(http),
        };
    }

    async Task MetricsAsync(HttpContext http, bool head)
    {
        if (!options.MayReadMetrics(http.Connection.RemoteIpAddress))
        {
            // Plain text: the dashboard has no OpenStack error body, and Prometheus shows this as it is.
            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync($"{MetricsPath} is served only to the networks of [metrics] allowed_source_ranges.\n", http.RequestAborted);
            return;
        }
        http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        if (head) return;
        await metrics.Registry.CollectAndExportAsTextAsync(http.Response.Body, http.RequestAborted);
    }

    /// <summary>The reasons the service cannot serve; empty when it can.</summary>
    public async Task<IReadOnlyList<string>> ProblemsAsync(CancellationToken ct)
    {
        var problems = new List<string>();
        if (options.DisableByFilePath is { } file && File.Exists(file)) problems.Add("DISABLED BY FILE");
        foreach (var reason in await Task.WhenAll(_checks.Select(c => ProbeAsync(c, ct))))
            if (reason is not null) problems.Add(reason);
        return problems;
    }

    async Task<string?> ProbeAsync(ServiceHealthCheck check, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(HealthCheckServices.ProbeTimeout);
        try
        {
            return await check.Probe(services, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"The {check.Name} did not answer within {HealthCheckServices.ProbeTimeout.TotalSeconds:0} s";
        }
    }

    async Task HealthcheckAsync(HttpContext http, bool head)
    {
        var problems = await ProblemsAsync(http.RequestAborted);
        var healthy = problems.Count == 0;
        IReadOnlyList<string> reasons = healthy ? ["OK"] : problems;
        var response = http.Response;
        response.Headers.CacheControl = "no-cache";
        if (head)
        {
            response.StatusCode = healthy ? StatusCodes.Status204NoContent : StatusCodes.Status503ServiceUnavailable;
            response.ContentType = "text/plain; charset=UTF-8";
            return;
        }
        response.StatusCode = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        var (type, body) = Negotiate(http.Request.Headers.Accept) switch
        {
            "application/json" => ("application/json", Json(reasons)),
            "text/html" => ("text/html; charset=UTF-8", Html(reasons)),
            _ => ("text/plain; charset=UTF-8", string.Join('\n', reasons)),
        };
        response.ContentType = type;
        await response.WriteAsync(body, http.RequestAborted);
    }

    static readonly string[] Offers = ["text/plain", "text/html", "application/json"];

    /// <summary>webob's acceptable_offers: the offer of highest quality, the first on a tie; text/plain when none fits.</summary>
    public static string Negotiate(StringValues accept)
    {
        if (!MediaTypeHeaderValue.TryParseList(accept, out var ranges) || ranges.Count == 0) return Offers[0];
        var (best, bestQ) = (Offers[0], 0.0);
        foreach (var offer in Offers)
        {
            // The most specific range that matches the offer decides its quality.
            var (q, specificity) = (0.0, -1);
            foreach (var r in ranges)
            {
                var type = r.MediaType.Value ?? "";
                var s = type == offer ? 2 : type == "*/*" ? 0 : type.EndsWith("/*", StringComparison.Ordinal) && offer.StartsWith(type[..^1], StringComparison.Ordinal) ? 1 : -1;
                if (s > specificity) (q, specificity) = (r.Quality ?? 1.0, s);
            }
            if (q > bestQ) (best, bestQ) = (offer, q);
        }
        return bestQ > 0 ? best : Offers[0];
    }

    /// <summary>As oslo's json.dumps(indent=4, sort_keys=True).</summary>
    static string Json(IReadOnlyList<string> reasons)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, IndentSize = 4 }))
        {
            w.WriteStartObject();
            w.WriteBoolean("detailed", false);
            w.WriteStartArray("reasons");
            foreach (var r in reasons) w.WriteStringValue(r);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    static string Html(IReadOnlyList<string> reasons)
    {
        var sb = new StringBuilder();
        sb.Append("<HTML>\n<HEAD><TITLE>Healthcheck Status</TITLE></HEAD>\n<BODY>\n");
        sb.Append("<H2>Result of ").Append(reasons.Count).Append(" checks:</H2>\n<TABLE bgcolor=\"#ffffff\" border=\"1\">\n<TBODY>\n");
        sb.Append("<TR>\n<TH>\nReason\n</TH>\n</TR>\n");
        foreach (var r in reasons) sb.Append("<TR>\n<TD>").Append(WebUtility.HtmlEncode(r)).Append("</TD>\n</TR>\n");
        sb.Append("</TBODY>\n</TABLE>\n</BODY>\n</HTML>");
        return sb.ToString();
    }
}
