using Microsoft.Extensions.DependencyInjection;
using Stratus.Core.Data;
using Stratus.Core.Hosting;
using Stratus.Core.Policy;
using Stratus.Image.Api;
using Stratus.Image.Policy;
using Stratus.Image.Store;

namespace Stratus.Image;

/// <summary>The image service (Glance v2) as a library any host composes.</summary>
public static class ImageService
{
    public static IServiceCollection AddImageService(this IServiceCollection services, ImageOptions options)
    {
        var db = DatabaseUrl.Parse(options.DatabaseConnection);
        services.AddSingleton(options);
        services.AddDbContext<ImageDb>(o => db.Configure(o));
        services.AddPolicy(GlancePolicy.Options(options.PolicyFile));
        services.AddSingleton(new FileStore(options.DataDir));
        services.AddSingleton<ImportWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<ImportWorker>());
        services.AddSingleton<ErrorBodyWriter>(GlanceErrors.Write);
        services.AddAuthToken(options.Authtoken, "/", "/versions");
        return services;
    }

    /// <summary>The image API on the node's address and Glance's port (9292).</summary>
    public static WebApplication Build(ImageOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        // Metadata requests are small; image data lifts this limit per request (image_size_cap applies).
        var builder = ServiceHost.CreateBuilder(options.BindHost, options.BindPort, maxRequestBodySize: 1 << 20);
        // Image data moves in bulk: larger socket reads, far fewer system calls.
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        builder.Services.AddImageService(options);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.Services.GetRequiredService<FileStore>().RemovePartialFiles();
        app.UseMiddleware<RequestIdMiddleware>()
            .UseMiddleware<ErrorMiddleware>()
            .Use((http, next) =>
            {
                // Glance's routes have no trailing slash: "/v2/images/" is not the list, and "/v2/images//file" no image.
                var path = http.Request.Path.Value ?? "/";
                if (path.Length > 1 && (path.EndsWith('/') || path.Contains("//", StringComparison.Ordinal)))
                    throw OpenStackError.NotFound("The resource could not be found.");
                return next(http);
            })
            .UseAuthToken()
            .UseRouting();
        app.MapImageApi();
        return app;
    }

    public static IEndpointRouteBuilder MapImageApi(this IEndpointRouteBuilder app)
    {
        app.MapVersions();
        var v2 = app.MapGroup("/v2");
        v2.MapSchemasAndInfo();
        v2.MapImages().MapImageData().MapMembers().MapTags();
        v2.MapMetadefs();
        return app;
    }

    /// <summary>glance-manage db_sync: creates the schema if missing.</summary>
    public static async Task SyncDatabaseAsync(ImageOptions options, CancellationToken ct = default)
    {
        var url = DatabaseUrl.Parse(options.DatabaseConnection);
        var b = new DbContextOptionsBuilder<ImageDb>();
        url.Configure(b);
        await using var db = new ImageDb(b.Options);
        await url.EnsureSchemaAsync(db, ct);
    }
}
