using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Core.Messaging;
using Stratus.Core.Services;

namespace Stratus.Network.Agents;

/// <summary>
/// What Neutron's agents share: at start and then every <c>[agent] report_interval</c> each reports its
/// state to neutron-server on <see cref="AgentTopics.Reports"/> (start_flag on the first), and the
/// server's answer says whether it was revived. No report interval, no reports, as in Neutron.
/// </summary>
public abstract class NeutronAgent(IMessageBus bus, TimeProvider time, NetworkOptions options, ILogger log) : BackgroundService
{
    public abstract string Binary { get; }
    public abstract string AgentType { get; }
    /// <summary>The topic the report names: the one the server reaches the agent on, or N/A.</summary>
    public abstract string Topic { get; }
    protected abstract AgentSettings Settings { get; }
    /// <summary>The zone the report names: the DHCP and L3 agents report theirs, the others none.</summary>
    protected virtual string? AvailabilityZone => null;
    /// <summary>Whether a report after the first is a call (most agents) or a cast (the metadata agent).</summary>
    protected virtual bool CallsAfterStart => true;

    protected NetworkOptions Options => options;

    /// <summary>The configurations of the next report; counts are read anew each time.</summary>
    protected abstract JsonObject Configurations();

    /// <summary>Why the agent cannot start (it logs this and reports nothing), or null.</summary>
    protected virtual string? StartError() => null;

    protected override Task ExecuteAsync(CancellationToken stop)
    {
        if (StartError() is { } error)
        {
            log.LogError("{Binary} cannot start: {Error}", Binary, error);
            return Task.CompletedTask;
        }
        var interval = Settings.ReportInterval;
        if (interval <= TimeSpan.Zero)
        {
            log.LogWarning("{Binary}: report_interval is 0, so neutron-server will not know of this agent", Binary);
            return Task.CompletedTask;
        }
        var reports = new PluginReportStateApi(bus, time, interval);
        var group = new ServiceGroup(interval, options.AgentDownTime, time);
        var started = false;
        var failed = false;
        return group.HeartbeatAsync(async ct =>
        {
            var state = new AgentState(Binary, options.Host, Topic, AgentType, Configurations())
            {
                AvailabilityZone = AvailabilityZone, StartFlag = started ? null : true,
            };
            try
            {
                var status = await reports.ReportStateAsync(state, useCall: !started || CallsAfterStart, ct);
                if (status == AgentStatus.Revived) log.LogInformation("{Type} has just been revived. Doing a full sync.", AgentType);
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                failed = true;
                throw;
            }
            started = true;
            if (failed) log.LogInformation("{Type}: successfully reported state after a previous failure.", AgentType);
            failed = false;
        }, log, $"{AgentType} on {options.Host}", stop);
    }
}
