namespace Stratus.BlockStorage.Api;

/// <summary>Version discovery: <c>/</c> (300, every version, what nova and the clients read) and <c>/v3/</c> (200), as Cinder Zed answers.</summary>
public static class VersionsApi
{
    public static void MapVersions(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http) => new JsonResponse(Versions(http), 300));
        app.MapGet("/v3", (HttpContext http) => new JsonResponse(Versions(http)));
    }

    static JsonObject Versions(HttpContext http) => new()
    {
        ["versions"] = new JsonArray(new JsonObject
        {
            ["id"] = "v3.0",
            ["status"] = "CURRENT",
            ["version"] = CinderApi.Versions.Max.ToString(),
            ["min_version"] = CinderApi.Versions.Min.ToString(),
            ["updated"] = "2022-08-31T00:00:00Z",
            ["links"] = new JsonArray(
                new JsonObject { ["rel"] = "describedby", ["type"] = "text/html", ["href"] = "https://docs.openstack.org/" },
                new JsonObject { ["rel"] = "self", ["href"] = $"{http.Request.Scheme}://{http.Request.Host}/v3/" }),
            ["media-types"] = new JsonArray(new JsonObject { ["base"] = "application/json", ["type"] = "application/vnd.openstack.volume+json;version=3" }),
        }),
    };
}
