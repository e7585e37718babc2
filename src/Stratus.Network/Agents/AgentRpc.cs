using System.Globalization;
using System.Text.Json.Serialization;
using Stratus.Core.Messaging;

namespace Stratus.Network.Agents;

/// <summary>Neutron's RPC topics (neutron_lib.agent.topics) and the topic each agent puts in its report.</summary>
public static class AgentTopics
{
    /// <summary>neutron-server serves the agents' state reports here.</summary>
    public const string Reports = "q-reports-plugin";
    /// <summary>What the server tells the L2 agents (q-agent-notifier-port-update...).</summary>
    public const string AgentNotifier = "q-agent-notifier";
    public const string Plugin = "q-plugin";
    public const string L3Plugin = "q-l3-plugin";
    public const string DhcpNotifier = "q-dhcp-notifer";
    public const string DhcpAgent = "dhcp_agent";
    public const string L3Agent = "l3_agent";
    /// <summary>The report's topic of agents the server sends nothing to by topic (L2 and metadata agents).</summary>
    public const string NotApplicable = "N/A";

    /// <summary>neutron_lib.agent.topics.get_topic_name: <c>q-agent-notifier-port-update</c>, with <c>.host</c> when given.</summary>
    public static string Name(string prefix, string table, string operation, string? host = null) =>
        host is null ? $"{prefix}-{table}-{operation}" : $"{prefix}-{table}-{operation}.{host}";
}

/// <summary>What the server answers a report with (neutron_lib.agent.constants): new, alive or revived.</summary>
public static class AgentStatus
{
    public const string New = "new", Alive = "alive", Revived = "revived";
}

/// <summary>
/// An agent's state as it reports it (neutron.agent.rpc's agent_state): who and where it is, its
/// configurations, its zone (DHCP and L3 agents only), and start_flag on its first report.
/// </summary>
public sealed record AgentState(string Binary, string Host, string Topic, string AgentType, JsonObject Configurations)
{
    public string? AvailabilityZone { get; init; }
    public bool? StartFlag { get; init; }
    /// <summary>Each report's own id, for matching the agent's log with the server's.</summary>
    public string? Uuid { get; init; }
}

/// <summary>Neutron's kwargs of report_state: <c>agent_state</c> wraps the state once more, as on Neutron's wire.</summary>
public sealed record AgentStateArg(AgentState AgentState);

/// <summary>
/// report_state on <see cref="AgentTopics.Reports"/>: the agent's state and its clock at sending
/// (<c>%Y-%m-%dT%H:%M:%S.%f</c>). A call answers an <see cref="AgentStatus"/>, or null for a stale report;
/// the metadata agent casts it after its first.
/// </summary>
public sealed record ReportState(AgentStateArg AgentState, string Time) : IRpcCall<string?>, IRpcCast
{
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff";

    public static string FormatTime(DateTime utc) => utc.ToString(TimeFormat, CultureInfo.InvariantCulture);

    public DateTime SentAt() =>
        DateTime.TryParseExact(Time, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : throw new FormatException($"time data '{Time}' does not match format '%Y-%m-%dT%H:%M:%S.%f'");
}

/// <summary>neutron.agent.rpc.PluginReportStateAPI: the agents' client of the reports topic; a call waits one report interval.</summary>
public sealed class PluginReportStateApi(IMessageBus bus, TimeProvider time, TimeSpan reportInterval)
    : RpcClient(bus, AgentTopics.Reports, AgentRpcJson.Default, reportInterval)
{
    public async Task<string?> ReportStateAsync(AgentState state, bool useCall, CancellationToken ct)
    {
        var message = new ReportState(new AgentStateArg(state with { Uuid = Guid.NewGuid().ToString() }), ReportState.FormatTime(time.GetUtcNow().UtcDateTime));
        if (useCall) return await CallAsync(message, ct);
        await CastAsync(message, ct);
        return null;
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ReportState))]
[JsonSerializable(typeof(string))]
sealed partial class AgentRpcJson : JsonSerializerContext;
