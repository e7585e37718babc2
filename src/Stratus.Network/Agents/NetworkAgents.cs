using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Stratus.Core.Messaging;
using Stratus.Core.Modules;
using Stratus.Core.Operations;
using Stratus.Core.Services;

namespace Stratus.Network.Agents;

/// <summary>
/// The agents <c>[stratus] services</c> names, as hosted services of the node's network host, over the
/// bus <c>transport_url</c> names; with neutron-server, its side of their reports. A compute node runs
/// only the Linux bridge agent and has no database: its reports are all it does.
/// </summary>
public static class NetworkAgents
{
    public static IServiceCollection AddNetworkAgents(this IServiceCollection services, NetworkOptions options, NodeRuntime runtime)
    {
        services.TryAddSingleton(options);
        services.TryAddSingleton(runtime.Time);
        var bus = runtime.Bus(options.TransportUrl);
        services.AddSingleton(bus);
        services.AddSingleton(sp => new ServiceGroup(options.Agent.ReportInterval, options.AgentDownTime, sp.GetRequiredService<TimeProvider>()));
        // The server's side first: it serves before the agents' first reports come.
        if (options.Runs(NetworkOptions.Server))
        {
            services.AddMessageBusHealthCheck(bus).AddQueueDepthGauge(bus, AgentTopics.Reports, AgentTopics.Plugin, AgentTopics.L3Plugin);
            services.AddSingleton<AgentNotifier>();
            services.AddHostedService<AgentReports>();
            services.AddHostedService<PluginRpc>();
            services.AddHostedService<L3PluginRpc>();
        }
        if (options.Runs(NetworkOptions.LinuxBridgeAgent))
        {
            services.AddSingleton<PluginApi>();
            services.AddHostedService<LinuxBridgeAgent>();
        }
        if (options.Runs(NetworkOptions.DhcpAgent))
        {
            services.AddSingleton<DhcpPluginApi>();
            services.AddHostedService<DhcpAgent>();
        }
        if (options.Runs(NetworkOptions.MetadataAgent))
        {
            services.AddSingleton<MetadataPluginApi>();
            services.AddHostedService<MetadataAgent>();
        }
        if (options.Runs(NetworkOptions.L3Agent))
        {
            services.AddSingleton<L3PluginApi>();
            services.AddHostedService<L3Agent>();
        }
        return services;
    }
}
