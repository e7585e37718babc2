namespace Stratus.Compute.Api;

/// <summary>
/// The compute API's microversions: <c>OpenStack-API-Version: compute 2.x</c> or the older
/// <c>X-OpenStack-Nova-API-Version: 2.x</c>, "latest" for the newest, 2.1 when absent; 406 outside
/// what is served. Every response says which version answered, and that it varies with it.
/// </summary>
public static class Microversion
{
    public static readonly Microversions Scheme = new("compute", new ApiVersionRequest(2, 1), new ApiVersionRequest(2, 92))
    {
        LegacyHeader = "X-OpenStack-Nova-API-Version",
        Vary = "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
        InvalidFormat = text => $"API Version String {text} is of invalid format. Must be of format MajorNum.MinorNum.",
        NotAcceptable = text => $"Version {text} is not supported by the API. Minimum is {Min} and maximum is {Max}.",
    };

    public static ApiVersionRequest Min => Scheme.Min;
    public static ApiVersionRequest Max => Scheme.Max;

    public static ApiVersionRequest Of(HttpContext http) => Scheme.Of(http);

    /// <summary>The newest version of the proxies to other services' APIs (Nova's MAX_PROXY_API_SUPPORT_VERSION).</summary>
    public const int MaxProxy = 35;

    /// <summary>What Nova answers for a method the request's version does not have: webob's bare 404.</summary>
    public static OpenStackError NotInVersion() => OpenStackError.NotFound("The resource could not be found.");

    /// <summary>Nova's <c>api_version("2.1", "2.max")</c> on the endpoints: from 2.(max+1) on they do not exist.</summary>
    public static TBuilder UpTo<TBuilder>(this TBuilder builder, int maxMinor) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter((ctx, next) => Of(ctx.HttpContext).AtLeast(maxMinor + 1) ? throw NotInVersion() : next(ctx));

    /// <summary>Reads the request's version (under /v2 and /v2.1 only) and stamps it on the response.</summary>
    public static async Task Middleware(HttpContext http, RequestDelegate next)
    {
        // Before parsing: a refused version's answer varies with the header too.
        http.Response.Headers.Vary = Scheme.Vary;
        var v = Min;
        if (http.Request.Path.StartsWithSegments("/v2.1") || http.Request.Path.StartsWithSegments("/v2")) v = Scheme.Parse(http.Request);
        Scheme.Apply(http, v);
        // Nova answers with the request id under its old name too.
        http.Response.OnStarting(() =>
        {
            if (http.Response.Headers.TryGetValue("X-Openstack-Request-Id", out var id)) http.Response.Headers["X-Compute-Request-Id"] = id;
            return Task.CompletedTask;
        });
        await next(http);
    }
}
