namespace Stratus.Compute.Api;

/// <summary>Version discovery: <c>GET /</c> lists v2.0 and v2.1 with the microversion range; no token needed.</summary>
public static class VersionsApi
{
    public static IEndpointRouteBuilder MapComputeVersions(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http) => new JsonResponse(new JsonObject
        {
            ["versions"] = new JsonArray(Version(http, "v2.0"), Version(http, "v2.1")),
        }));
        app.MapGet("/v2.1", (HttpContext http) => new JsonResponse(new JsonObject { ["version"] = Version(http, "v2.1") }));
        app.MapGet("/v2", (HttpContext http) => new JsonResponse(new JsonObject { ["version"] = Version(http, "v2.0") }));
        return app;
    }

    static JsonObject Version(HttpContext http, string id)
    {
        var current = id == "v2.1";
        return new JsonObject
        {
            ["id"] = id,
            ["status"] = current ? "CURRENT" : "SUPPORTED",
            ["version"] = current ? Microversion.Max.ToString() : "",
            ["min_version"] = current ? Microversion.Min.ToString() : "",
            ["updated"] = current ? "2013-07-23T11:33:21Z" : "2011-01-21T11:33:21Z",
            ["links"] = new JsonArray(new JsonObject { ["rel"] = "self", ["href"] = $"{http.Request.Scheme}://{http.Request.Host}/{(current ? id : "v2")}/" }),
        };
    }
}
