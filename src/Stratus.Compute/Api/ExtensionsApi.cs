namespace Stratus.Compute.Api;

/// <summary>
/// <c>/extensions</c>: the v2 extensions Nova still lists for clients that look (extensions.json, Nova Zed's
/// EXTENSION_LIST; the v2.1 API has no extensions of its own, microversions replaced them).
/// </summary>
public static class ExtensionsApi
{
    static readonly Lazy<JsonArray> All = new(() =>
    {
        using var stream = typeof(ExtensionsApi).Assembly.GetManifestResourceStream("Stratus.Compute.Api.extensions.json")!;
        return JsonNode.Parse(stream)!.AsArray();
    });

    public static RouteGroupBuilder MapExtensions(this RouteGroupBuilder v21)
    {
        v21.MapGet("/extensions", () => new JsonResponse(new JsonObject { ["extensions"] = All.Value.DeepClone() }))
            .RequirePolicy("os_compute_api:extensions");
        v21.MapGet("/extensions/{alias}", (string alias) =>
                All.Value.FirstOrDefault(e => (string?)e!["alias"] == alias) is { } extension
                    ? new JsonResponse(new JsonObject { ["extension"] = extension.DeepClone() })
                    : throw OpenStackError.NotFound("The resource could not be found."))
            .RequirePolicy("os_compute_api:extensions");
        return v21;
    }
}
