using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Compute.Placement;
using Stratus.Compute.Rpc;
using Stratus.Core.Messaging;

namespace Stratus.Compute.Scheduler;

/// <summary>
/// nova-scheduler: picks a host for a server from placement's allocation candidates, keeps those whose
/// compute service is enabled, up and in the asked availability zone, prefers the most free memory,
/// and claims the resources in placement (the claim is what makes two builds not take the same room).
/// </summary>
public sealed class SchedulerService(IMessageBus bus, IServiceScopeFactory scopes, PlacementClient placement, NovaOptions options,
    ILogger<SchedulerService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        await using var serving = await bus.ServeAsync(ComputeRpc.SchedulerTopic, options.Host, HandleAsync, stop);
        await Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    async Task<JsonNode?> HandleAsync(string method, JsonObject args, CancellationToken ct) => method switch
    {
        "select_destination" => await SelectAsync(args, ct),
        _ => throw new InvalidOperationException($"nova-scheduler has no method {method}"),
    };

    async Task<JsonNode?> SelectAsync(JsonObject args, CancellationToken ct)
    {
        var uuid = (string)args["uuid"]!;
        var resources = new Dictionary<string, long>
        {
            ["VCPU"] = (long)args["vcpus"]!,
            ["MEMORY_MB"] = (long)args["memory_mb"]!,
            ["DISK_GB"] = (long)args["disk_gb"]!,
        };
        var query = string.Join(',', resources.Where(r => r.Value > 0).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Key}:{r.Value}")));
        var candidates = await placement.GetAsync($"/allocation_candidates?resources={query}&limit=1000", ct)
            ?? throw new NoValidHostException("No valid host was found. Placement has no allocation candidates.");
        var summaries = candidates["provider_summaries"] as JsonObject ?? [];
        var excluded = (args["excluded_hosts"] as JsonArray ?? []).Select(h => (string?)h).ToHashSet();
        var zone = (string?)args["availability_zone"];

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CellDb>();
        var nodes = await db.ComputeNodes.ToDictionaryAsync(n => n.Uuid, ct);
        var services = await db.Services.Where(s => s.Binary == NovaOptions.Compute).ToDictionaryAsync(s => s.Host, ct);
        var upSince = DateTime.UtcNow - options.ServiceDownTime;
        // AvailabilityZoneFilter: a host's zone is its aggregate's availability_zone, else the default zone.
        var hostZones = await Api.HypervisorsApi.HostZonesAsync(scope.ServiceProvider.GetRequiredService<ApiDb>(), ct);

        var usable = new List<(string Host, string Node, JsonObject Allocations, long FreeRam)>();
        foreach (var request in (candidates["allocation_requests"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var allocations = request["allocations"] as JsonObject;
            if (allocations is null || allocations.Count != 1) continue;
            var rp = allocations.First().Key;
            if (!nodes.TryGetValue(rp, out var node) || !services.TryGetValue(node.Host, out var service)) continue;
            if (service.Disabled || service.ForcedDown || service.LastSeenUp < upSince || excluded.Contains(node.Host)) continue;
            if (zone is not null && hostZones.GetValueOrDefault(node.Host, options.DefaultAvailabilityZone) != zone) continue;
            var ram = summaries[rp]?["resources"]?["MEMORY_MB"];
            var free = ram is null ? 0 : (long)ram["capacity"]! - (long)ram["used"]!;
            usable.Add((node.Host, node.HypervisorHostname, allocations, free));
        }
        foreach (var host in usable.OrderByDescending(h => h.FreeRam))
        {
            var claim = new JsonObject
            {
                ["allocations"] = host.Allocations.DeepClone(),
                ["project_id"] = (string?)args["project_id"],
                ["user_id"] = (string?)args["user_id"],
                ["consumer_generation"] = null,
            };
            var (status, _, text) = await placement.SendAsync(HttpMethod.Put, $"/allocations/{uuid}", claim, ct);
            if ((int)status < 300) return new JsonObject { ["host"] = host.Host, ["node"] = host.Node };
            if (status != HttpStatusCode.Conflict) throw new PlacementException((int)status, $"Claiming resources for {uuid} on {host.Host}: {(int)status} {text}");
            log.LogInformation("Host {Host} lost the race for {Uuid}; trying the next", host.Host, uuid);
        }
        throw new NoValidHostException("No valid host was found. There are not enough hosts available.");
    }
}

public sealed class NoValidHostException(string message) : Exception(message);
