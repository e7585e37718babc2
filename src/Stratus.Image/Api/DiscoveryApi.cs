
using Stratus.Image.Schemas;

namespace Stratus.Image.Api;

/// <summary>Version discovery (no token needed), the schemas clients read, and <c>/v2/info</c>.</summary>
public static class DiscoveryApi
{
    // Glance Zed with a (single) store advertised: 2.15 current, older v2 minors supported.
    static readonly string[] Versions = ["2.15", "2.13", "2.12", "2.11", "2.10", "2.9", "2.8", "2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0"];

    public static IEndpointRouteBuilder MapVersions(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http) => new JsonResponse(VersionList(http), 300));
        app.MapGet("/versions", (HttpContext http) => new JsonResponse(VersionList(http)));
        return app;
    }

    static JsonObject VersionList(HttpContext http)
    {
        var href = $"{http.Request.Scheme}://{http.Request.Host}/v2/";
        return new JsonObject
        {
            ["versions"] = new JsonArray([.. Versions.Select((v, i) => (JsonNode)new JsonObject
            {
                ["id"] = "v" + v,
                ["status"] = i == 0 ? "CURRENT" : "SUPPORTED",
                ["links"] = new JsonArray(new JsonObject { ["rel"] = "self", ["href"] = href }),
            })]),
        };
    }

    public static RouteGroupBuilder MapSchemasAndInfo(this RouteGroupBuilder v2)
    {
        v2.MapGet("/schemas/image", () => new JsonResponse(ImageSchemas.Image));
        v2.MapGet("/schemas/images", () => new JsonResponse(ImageSchemas.Images));
        v2.MapGet("/schemas/member", () => new JsonResponse(ImageSchemas.Member));
        v2.MapGet("/schemas/members", () => new JsonResponse(ImageSchemas.Members));
        v2.MapGet("/schemas/metadefs/{name}", (string name) =>
            new JsonResponse(ImageSchemas.Metadef(name) ?? throw OpenStackError.NotFound($"No schema named {name}.")));
        v2.MapGet("/info/import", (ImageOptions options) => new JsonResponse(new JsonObject
        {
            ["import-methods"] = new JsonObject
            {
                ["description"] = "Import methods available.",
                ["type"] = "array",
                ["value"] = new JsonArray([.. options.EnabledImportMethods.Select(m => (JsonNode)m)]),
            },
        }));
        v2.MapGet("/info/stores", (ImageOptions options) => new JsonResponse(new JsonObject
        {
            ["stores"] = new JsonArray(new JsonObject { ["id"] = options.DefaultStore, ["default"] = "true" }),
        }));
        v2.MapGet("/info/usage", Usage);
        return v2;
    }

    /// <summary>What the caller's project uses (Glance's unified-limits usage; no limits are configured, so -1).</summary>
    static async Task<IResult> Usage(HttpContext http, ImageDb db, CancellationToken ct)
    {
        var project = http.Caller().ProjectId;
        var mine = db.Images.Where(i => i.Owner == project && !i.Deleted);
        var size = await mine.SumAsync(i => i.Size ?? 0, ct);
        var count = await mine.CountAsync(ct);
        var staging = await mine.Where(i => i.Status == ImageStatus.Uploading || i.Status == ImageStatus.Importing).SumAsync(i => i.Size ?? 0, ct);
        static JsonObject Item(long usage) => new() { ["limit"] = -1, ["usage"] = usage };
        return new JsonResponse(new JsonObject
        {
            ["usage"] = new JsonObject
            {
                ["image_size_total"] = Item(size / (1024 * 1024)),
                ["image_stage_total"] = Item(staging / (1024 * 1024)),
                ["image_count_total"] = Item(count),
                ["image_count_uploading"] = Item(await mine.CountAsync(i => i.Status == ImageStatus.Uploading || i.Status == ImageStatus.Saving, ct)),
            },
        });
    }

}
