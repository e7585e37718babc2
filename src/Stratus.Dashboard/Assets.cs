using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Stratus.Dashboard;

/// <summary>
/// The stylesheet, script and icon, embedded in the assembly and served by the dashboard itself: the
/// machine it runs on may have no internet, and a node's build output carries no static web assets.
/// </summary>
public static class Assets
{
    sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    static readonly FrozenDictionary<string, Asset> All = Load();

    /// <summary>A short hash of the assets, appended to their URLs so a new build is never served stale from a cache.</summary>
    public static string Version { get; } = Convert.ToHexStringLower(SHA256.HashData(All.Values.SelectMany(a => a.Bytes).ToArray()))[..12];

    static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(Assets).Assembly;
        const string prefix = "Stratus.Dashboard.Assets.";
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            var file = name[prefix.Length..];
            var type = Path.GetExtension(file) switch
            {
                ".css" => "text/css; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            var bytes = ms.ToArray();
            assets[file] = new Asset(bytes, type, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public static IEndpointRouteBuilder MapAssets(this IEndpointRouteBuilder app, string prefix)
    {
        app.MapGet(prefix + "/{file}", Results<FileContentHttpResult, StatusCodeHttpResult, NotFound> (string file, HttpContext http) =>
        {
            if (!All.TryGetValue(file, out var asset)) return TypedResults.NotFound();
            http.Response.Headers.CacheControl = "public, max-age=86400";
            http.Response.Headers.ETag = asset.ETag;
            if (http.Request.Headers.IfNoneMatch == asset.ETag) return TypedResults.StatusCode(304);
            return TypedResults.File(asset.Bytes, asset.ContentType);
        }).AllowAnonymous();
        return app;
    }
}
