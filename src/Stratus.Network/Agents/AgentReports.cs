using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Core.Messaging;
using Stratus.Core.Services;

namespace Stratus.Network.Agents;

/// <summary>
/// neutron-server's side of the reports topic (Neutron's AgentExtRpcCallback and create_or_update_agent):
/// each report_state makes or updates the agent's row, one per agent type and host, with the server's
/// clock as its heartbeat. Reports sent before this server started are stale (they waited in the queue
/// while no server ran) and are dropped, so an agent that died meanwhile does not look alive.
/// </summary>
public sealed class AgentReports(IMessageBus bus, NetworkStore store, ServiceGroup group, NetworkOptions options, ILogger<AgentReports> log)
    : BackgroundService
{
    // Microseconds, as the reports' timestamps carry.
    readonly DateTime _started = Truncate(group.UtcNow);

    static DateTime Truncate(DateTime t) => new(t.Ticks - t.Ticks % 10, DateTimeKind.Utc);

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var rpc = new RpcDispatcher(NetworkOptions.Server, AgentRpcJson.Default).On<ReportState, string?>(ReportStateAsync);
        await using var serving = await bus.ServeAsync(AgentTopics.Reports, options.Host, rpc.DispatchAsync, stop);
        try
        {
            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    async Task<string?> ReportStateAsync(ReportState report, CancellationToken ct)
    {
        var state = report.AgentState?.AgentState ?? throw new ArgumentException("report_state needs agent_state");
        foreach (var (name, value) in new[] { ("agent_type", state.AgentType), ("binary", state.Binary), ("host", state.Host), ("topic", state.Topic) })
            if (string.IsNullOrEmpty(value)) throw new ArgumentException($"agent_state has no {name}");
        var sent = report.SentAt();
        if (state.StartFlag == true && Math.Abs((group.UtcNow - sent).TotalSeconds) > options.AgentDownTime.TotalSeconds)
            log.LogError("Message received from the host: {Host} during the registration of {Type} has a timestamp: {AgentTime:O}. " +
                "This differs from the current server timestamp: {ServerTime:O} by more than the threshold agent down time: {Threshold} s.",
                state.Host, state.AgentType, sent, group.UtcNow, options.AgentDownTime.TotalSeconds);
        if (_started > sent)
        {
            log.LogDebug("Stale message received with timestamp: {AgentTime:O}. Skipping processing because it's older than the server start timestamp: {ServerTime:O}",
                sent, _started);
            return null;
        }
        for (var attempt = 0; ; attempt++)
            try
            {
                return await CreateOrUpdateAsync(state, ct);
            }
            catch (DbException e) when (SqlDatabase.IsDuplicate(e) && attempt < 3)
            {
                // Another report of the same agent made its row first (the unique type and host): update that one.
            }
    }

    // Every report writes its agent's row: plain ADO.NET, not EF Core, as a node's agents report every few seconds all day.
    async Task<string> CreateOrUpdateAsync(AgentState state, CancellationToken ct)
    {
        var now = group.UtcNow;
        var configurations = (state.Configurations ?? []).ToJsonString();
        var agent = await store.AgentAsync(state.AgentType, state.Host, ct);
        var isNew = agent is null;
        string status;
        if (agent is null)
        {
            agent = new AgentRow
            {
                Id = Guid.NewGuid().ToString(), AgentType = state.AgentType, Binary = state.Binary, Topic = state.Topic, Host = state.Host,
                AdminStateUp = options.Agent.EnableNewAgents, CreatedAt = now, StartedAt = now,
            };
            status = AgentStatus.New;
        }
        else
        {
            status = group.IsUp(new AgentMember(agent)) ? AgentStatus.Alive : AgentStatus.Revived;
            if (state.StartFlag == true) agent.StartedAt = now;
        }
        agent.Binary = state.Binary;
        agent.Topic = state.Topic;
        if (state.AvailabilityZone is not null) agent.AvailabilityZone = state.AvailabilityZone;
        agent.Configurations = configurations;
        agent.HeartbeatTimestamp = now;
        if (isNew) await store.AddAsync([agent], ct);
        else await store.UpdateAsync(agent, ct);
        if (state.Configurations?["log_agent_heartbeats"] is JsonValue v && v.TryGetValue<bool>(out var logIt) && logIt)
            log.LogInformation("Heartbeat received from {Type} agent on host {Host}, uuid {Uuid}", state.AgentType, state.Host, state.Uuid);
        return status;
    }
}

/// <summary>An agent's row as the service group's up rule reads it: alive while its last heartbeat is within agent_down_time.</summary>
public sealed record AgentMember(AgentRow Agent) : IServiceMember
{
    public string Host => Agent.Host;
    public string Binary => Agent.AgentType;
    public string Zone => Agent.AvailabilityZone ?? "";
    public bool Disabled => !Agent.AdminStateUp;
    public bool ForcedDown => false;
    public DateTime? LastSeenUp => Agent.HeartbeatTimestamp;
    public DateTime UpdatedAt => Agent.HeartbeatTimestamp;
}
