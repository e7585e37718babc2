
namespace Stratus.Identity.Api;

/// <summary>Version discovery: the only unauthenticated reads (GET / and GET /v3).</summary>
public static class VersionsApi
{
    // Keystone Zed reports Identity API v3.14.
    const string Id = "v3.14";
    const string Updated = "2020-04-07T00:00:00Z";

    public static IEndpointRouteBuilder MapVersions(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http) =>
            new JsonResponse(new JsonObject { ["versions"] = new JsonObject { ["values"] = new JsonArray(Version(http)) } }, 300)
                .WithHeader("Location", $"{http.BaseUrl()}/v3/"));
        app.MapGet("/v3", (HttpContext http) => new JsonResponse(new JsonObject { ["version"] = Version(http) }));
        return app;
    }

    static JsonObject Version(HttpContext http) => new()
    {
        ["id"] = Id,
        ["status"] = "stable",
        ["updated"] = Updated,
        ["links"] = new JsonArray(new JsonObject { ["rel"] = "self", ["href"] = $"{http.BaseUrl()}/v3/" }),
        ["media-types"] = new JsonArray(new JsonObject
        {
            ["base"] = "application/json",
            ["type"] = "application/vnd.openstack.identity-v3+json",
        }),
    };
}
