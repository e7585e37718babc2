using Microsoft.Extensions.DependencyInjection;
using Stratus.Core.Data;
using Stratus.Core.Operations;
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
        services.AddServiceDb<ImageDb>(db);
        services.AddDatabaseHealthCheck(options.DatabaseConnection);
        services.AddPolicy(GlancePolicy.Options(options.PolicyFile));
        services.AddSingleton(new FileStore(options.DataDir));
        services.AddSingleton<ImportWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<ImportWorker>());
        services.AddSingleton<ErrorBodyWriter>(GlanceErrors.Write);
        services.AddAuthToken(options.Authtoken, "/", "/versions");
        return services;
    }

    public static IEndpointRouteBuilder MapImageApi(this IEndpointRouteBuilder app)
    {
        app.MapVersions();
        var v2 = app.MapGroup("/v2");
        v2.MapSchemasAndInfo();
        v2.MapImages().MapImageData().MapMembers().MapTags();
        v2.MapTasks();
        v2.MapMetadefs();
        return app;
    }
}
