using Microsoft.Extensions.DependencyInjection;
using Stratus.Core.Data;
using Stratus.Core.Hosting;
using Stratus.Placement.Api;
using Stratus.Placement.Policy;

namespace Stratus.Placement;

/// <summary>The placement service (Placement Zed's API, microversions 1.0-1.39) as a library any host composes.</summary>
public static class PlacementService
{
    public static IServiceCollection AddPlacementService(this IServiceCollection services, PlacementOptions options)
    {
        var db = DatabaseUrl.Parse(options.DatabaseConnection);
        services.AddSingleton(options);
        services.AddDbContext<PlacementDb>(o => db.Configure(o));
        services.AddSingleton<ErrorBodyWriter>(PlacementVersion.WriteError);
        services.AddPolicy(PlacementPolicy.Options(options.PolicyFile));
        services.AddAuthToken(options.Authtoken, "/");
        return services;
    }

    public static WebApplication Build(PlacementOptions options)
    {
        var builder = ServiceHost.CreateBuilder(options.BindHost, options.BindPort, maxRequestBodySize: 1 << 20);
        builder.Services.AddPlacementService(options);
        var app = builder.Build();
        app.UseMiddleware<RequestIdMiddleware>()
            .UseMiddleware<ErrorMiddleware>()
            .Use(PlacementVersion.Middleware)
            .UseAuthToken()
            .UseRouting();
        app.MapGet("/", () => new JsonResponse(new JsonObject
        {
            ["versions"] = new JsonArray(new JsonObject
            {
                ["id"] = "v1.0", ["max_version"] = $"1.{PlacementVersion.Max}", ["min_version"] = "1.0", ["status"] = "CURRENT",
                ["links"] = new JsonArray(new JsonObject { ["rel"] = "self", ["href"] = "" }),
            }),
        }));
        app.MapResourceProviders();
        app.MapAllocations();
        app.MapTraitsAndClasses();
        return app;
    }

    /// <summary>placement-manage db sync: creates the schema if missing.</summary>
    public static async Task SyncDatabaseAsync(PlacementOptions options, CancellationToken ct = default)
    {
        var url = DatabaseUrl.Parse(options.DatabaseConnection);
        var b = new DbContextOptionsBuilder<PlacementDb>();
        url.Configure(b);
        await using var db = new PlacementDb(b.Options);
        await url.EnsureSchemaAsync(db, ct);
    }
}
