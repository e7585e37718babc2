using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Compute.Rpc;

namespace Stratus.Compute.Conductor;

/// <summary>
/// The heartbeat of the controller's services (nova-conductor, nova-scheduler), written straight to the
/// cell database as Nova's servicegroup db driver does, so <c>compute service list</c> shows them up or down.
/// </summary>
public sealed class ServiceHeartbeat(IServiceScopeFactory scopes, NovaOptions options, ILogger<ServiceHeartbeat> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var binaries = new[] { (NovaOptions.Conductor, ComputeRpc.ConductorTopic), (NovaOptions.Scheduler, ComputeRpc.SchedulerTopic) }
            .Where(b => options.Runs(b.Item1)).ToList();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<CellDb>();
                var now = DateTime.UtcNow;
                foreach (var (binary, topic) in binaries)
                {
                    var service = await db.Services.FirstOrDefaultAsync(s => s.Host == options.Host && s.Binary == binary, stop);
                    if (service is null)
                    {
                        service = new ServiceRecord { Uuid = Guid.NewGuid().ToString(), Host = options.Host, Binary = binary, Topic = topic, CreatedAt = now };
                        db.Services.Add(service);
                    }
                    service.ReportCount++;
                    service.LastSeenUp = service.UpdatedAt = now;
                }
                await db.SaveChangesAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                log.LogError("Heartbeat of {Host} failed: {Error}", options.Host, e.Message);
            }
            await Task.Delay(options.ReportInterval, stop).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
