using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Compute.Rpc;
using Stratus.Core.Services;

namespace Stratus.Compute.Conductor;

/// <summary>
/// The heartbeat of the controller's services (nova-conductor, nova-scheduler), written straight to the
/// cell database as Nova's servicegroup db driver does, so <c>compute service list</c> shows them up or down.
/// </summary>
public sealed class ServiceHeartbeat(IServiceScopeFactory scopes, ServiceGroup group, NovaOptions options, ILogger<ServiceHeartbeat> log) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stop)
    {
        var binaries = new[] { (NovaOptions.Conductor, ComputeRpc.ConductorTopic), (NovaOptions.Scheduler, ComputeRpc.SchedulerTopic) }
            .Where(b => options.Runs(b.Item1)).ToList();
        return group.HeartbeatAsync(async ct =>
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CellDb>();
            foreach (var (binary, topic) in binaries)
                await db.RecordHeartbeatAsync(options.Host, binary, topic, options.DefaultAvailabilityZone, group.UtcNow, ct);
            await db.SaveChangesAsync(ct);
        }, log, options.Host, stop);
    }
}
