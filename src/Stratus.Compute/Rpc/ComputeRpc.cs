namespace Stratus.Compute.Rpc;

/// <summary>
/// The RPC topics between Nova's services, as in Nova: the API and the agents talk to
/// <c>conductor</c>, the conductor asks <c>scheduler</c>, and each host's agent serves
/// <c>compute</c> as server <c>[DEFAULT] host</c>.
/// </summary>
public static class ComputeRpc
{
    public const string ConductorTopic = "conductor", SchedulerTopic = "scheduler", ComputeTopic = "compute";

    /// <summary>How long a call waits before the caller gives up (oslo's rpc_response_timeout).</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);
}
