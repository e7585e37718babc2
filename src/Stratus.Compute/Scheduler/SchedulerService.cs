using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Compute.Hosts;
using Stratus.Compute.Placement;
using Stratus.Compute.Rpc;
using Stratus.Core.Messaging;
using Stratus.Core.Services;

namespace Stratus.Compute.Scheduler;

/// <summary>
/// nova-scheduler: picks a host for a server from placement's allocation candidates, keeps those whose
/// compute service is enabled, up and in the asked availability zone, prefers the most free memory,
/// and claims the resources in placement (the claim is what makes two builds not take the same room).
/// </summary>
public sealed class SchedulerService(IMessageBus bus, IServiceScopeFactory scopes, PlacementClient placement, ServiceGroup group,
    NovaOptions options, ILogger<SchedulerService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var rpc = new RpcDispatcher(NovaOptions.Scheduler, ComputeRpcJson.Default).On<SelectDestination, Destination>(SelectAsync);
        await using var serving = await bus.ServeAsync(ComputeRpc.SchedulerTopic, options.Host, rpc.DispatchAsync, stop);
        await Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    async Task<Destination> SelectAsync(SelectDestination request, CancellationToken ct)
    {
        var flavor = request.Flavor;
        var resources = new Dictionary<string, long> { ["VCPU"] = flavor.Vcpus, ["MEMORY_MB"] = flavor.MemoryMb, ["DISK_GB"] = flavor.DiskGb };
        var query = string.Join(',', resources.Where(r => r.Value > 0).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Key}:{r.Value}")));
        var candidates = await placement.GetAsync($"/allocation_candidates?resources={query}&limit=1000", ct)
            ?? throw new NoValidHostException("No valid host was found. Placement has no allocation candidates.");
        var summaries = candidates["provider_summaries"] as JsonObject ?? [];

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CellDb>();
        var nodes = await db.ComputeNodes.ToDictionaryAsync(n => n.Uuid, ct);
        var services = await db.Services.Where(s => s.Binary == NovaOptions.Compute).ToDictionaryAsync(s => s.Host, ct);
        var hostZones = await HostZones.LoadAsync(scope.ServiceProvider.GetRequiredService<ApiDb>(), options, ct);

        var usable = new List<(string Host, string Node, string Zone, JsonObject Allocations, long FreeRam)>();
        foreach (var candidate in (candidates["allocation_requests"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var allocations = candidate["allocations"] as JsonObject;
            if (allocations is null || allocations.Count != 1) continue;
            var rp = allocations.First().Key;
            if (!nodes.TryGetValue(rp, out var node) || !services.TryGetValue(node.Host, out var service)) continue;
            if (service.Disabled || !group.IsUp(service) || request.ExcludedHosts.Contains(node.Host)) continue;
            // AvailabilityZoneFilter: only for a create that named a zone (or [DEFAULT] default_schedule_zone).
            var zone = hostZones.Of(node.Host);
            if (request.AvailabilityZone is { } asked && zone != asked) continue;
            var ram = summaries[rp]?["resources"]?["MEMORY_MB"];
            var free = ram is null ? 0 : (long)ram["capacity"]! - (long)ram["used"]!;
            usable.Add((node.Host, node.HypervisorHostname, zone, allocations, free));
        }
        foreach (var host in usable.OrderByDescending(h => h.FreeRam))
        {
            var claim = new JsonObject
            {
                ["allocations"] = host.Allocations.DeepClone(),
                ["project_id"] = request.ProjectId,
                ["user_id"] = request.UserId,
                ["consumer_generation"] = null,
            };
            var (status, _, text) = await placement.SendAsync(HttpMethod.Put, $"/allocations/{request.Uuid}", claim, ct);
            if ((int)status < 300) return new Destination(host.Host, host.Node, host.Zone);
            if (status != HttpStatusCode.Conflict) throw new PlacementException((int)status, $"Claiming resources for {request.Uuid} on {host.Host}: {(int)status} {text}");
            log.LogInformation("Host {Host} lost the race for {Uuid}; trying the next", host.Host, request.Uuid);
        }
        throw new NoValidHostException("No valid host was found. There are not enough hosts available.");
    }
}

public sealed class NoValidHostException(string message) : Exception(message);
