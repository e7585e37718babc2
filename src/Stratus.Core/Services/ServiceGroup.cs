using Microsoft.Extensions.Logging;

namespace Stratus.Core.Services;

/// <summary>
/// What nova.servicegroup is to OpenStack's services, and cinder's and neutron's agents copy: each
/// service reports (heartbeats) every <c>report_interval</c>, and counts as up while its last report is
/// at most <c>service_down_time</c> old and no operator forced it down. The group keeps no table: each
/// service stores its members in its own database, and hands the group how to write a heartbeat.
/// </summary>
public sealed class ServiceGroup(TimeSpan reportInterval, TimeSpan serviceDownTime, TimeProvider time)
{
    public DateTime UtcNow => time.GetUtcNow().UtcDateTime;

    public bool IsUp(IServiceMember member) =>
        !member.ForcedDown && member.LastSeenUp is { } seen && UtcNow - seen <= serviceDownTime;

    public ServiceRow Row(IServiceMember member) =>
        new(member.Host, member.Binary, member.Zone, member.Disabled, IsUp(member), member.UpdatedAt);

    /// <summary>
    /// Reports at once, then every <c>report_interval</c> until <paramref name="stop"/>. A failed report is
    /// logged and the next one comes at its time: a service that cannot report shows as down, not dead.
    /// </summary>
    public async Task HeartbeatAsync(Func<CancellationToken, Task> report, ILogger log, string who, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await report(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogError("Heartbeat of {Who} failed: {Error}", who, e.Message);
            }
            try
            {
                await Task.Delay(reportInterval, time, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

/// <summary>A service as its own table records it: enough for the up rule and the service list.</summary>
public interface IServiceMember
{
    string Host { get; }
    /// <summary>The binary (nova-compute, cinder-volume) or agent type (Linux bridge agent).</summary>
    string Binary { get; }
    string Zone { get; }
    bool Disabled { get; }
    bool ForcedDown { get; }
    DateTime? LastSeenUp { get; }
    DateTime UpdatedAt { get; }
}

/// <summary>One line of <c>compute service list</c>, <c>volume service list</c>, <c>network agent list</c>.</summary>
public sealed record ServiceRow(string Host, string Binary, string Zone, bool Disabled, bool Up, DateTime UpdatedAt)
{
    public string Status => Disabled ? "disabled" : "enabled";
    public string State => Up ? "up" : "down";
}
