using Microsoft.Extensions.DependencyInjection;
using Stratus.Core.Data;
using Stratus.Core.Operations;
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
        services.AddServiceDb<PlacementDb>(db);
        services.AddDatabaseHealthCheck(options.DatabaseConnection);
        services.AddSingleton<ErrorBodyWriter>(PlacementVersion.WriteError);
        services.AddPolicy(PlacementPolicy.Options(options.PolicyFile));
        services.AddAuthToken(options.Authtoken, "/");
        return services;
    }

    public static IEndpointRouteBuilder MapPlacementApi(this IEndpointRouteBuilder app)
    {
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
}
