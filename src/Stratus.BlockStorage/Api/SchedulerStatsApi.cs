using Stratus.BlockStorage.Rpc;

namespace Stratus.BlockStorage.Api;

/// <summary>
/// <c>/scheduler-stats/get_pools</c> (admin): the pools cinder-scheduler knows from the backends' reports, with their
/// capabilities and capacity when <c>detail</c> is asked; filtered by name (3.28) and by what a volume type needs (3.35).
/// </summary>
public static class SchedulerStatsApi
{
    public static void MapSchedulerStats(this RouteGroupBuilder project) => project.MapGet("/scheduler-stats/get_pools", GetPools);

    static async Task<IResult> GetPools(HttpContext http, CinderStore store, SchedulerApi scheduler, CancellationToken ct)
    {
        http.Enforce("scheduler_extension:scheduler_stats:get_pools");
        var q = http.Request.Query;
        var detail = q["detail"].FirstOrDefault() is { } d && d.ToLowerInvariant() is "1" or "t" or "true" or "on" or "y" or "yes";
        var v = http.Version();
        var name = v.AtLeast(28) ? q["name"].FirstOrDefault() : null;
        Dictionary<string, string>? specs = null;
        if (v.AtLeast(35) && q["volume_type"].FirstOrDefault() is { } typeName)
            specs = MetadataColumn.Read((await TypesApi.FindByNameOrIdAsync(http, store, typeName, ct)).ExtraSpecs);
        var reply = await scheduler.CallAsync(null, new GetPools(name, specs), VolumeRpc.CallTimeout, ct);
        return new JsonResponse(new JsonObject
        {
            ["pools"] = new JsonArray([.. reply.Pools.Select(p => (JsonNode)(detail
                ? new JsonObject { ["name"] = p.Name, ["capabilities"] = p.Capabilities.DeepClone() }
                : new JsonObject { ["name"] = p.Name }))]),
        });
    }
}
