using Microsoft.Extensions.Logging;
using Stratus.Core.Messaging;

namespace Stratus.Network.Agents;

/// <summary>neutron-metadata-agent: reports where it proxies guests' metadata requests to (compute's metadata API).</summary>
public sealed class MetadataAgent(IMessageBus bus, TimeProvider time, NetworkOptions options, ILogger<MetadataAgent> log)
    : NeutronAgent(bus, time, options, log)
{
    public const string Type = "Metadata agent";

    public override string Binary => NetworkOptions.MetadataAgent;
    public override string AgentType => Type;
    public override string Topic => AgentTopics.NotApplicable;
    protected override AgentSettings Settings => Options.Agent.Metadata;
    /// <summary>Neutron's metadata agent calls only its first report.</summary>
    protected override bool CallsAfterStart => false;

    protected override JsonObject Configurations() => new()
    {
        ["metadata_proxy_socket"] = Settings.MetadataProxySocket,
        ["nova_metadata_host"] = Settings.NovaMetadataHost,
        ["nova_metadata_port"] = Settings.NovaMetadataPort,
        ["log_agent_heartbeats"] = Settings.LogAgentHeartbeats,
    };
}
