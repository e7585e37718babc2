using Microsoft.Extensions.DependencyInjection;
using Stratus.Core.Data;
using Stratus.Core.Operations;
using Stratus.Network.Api;
using Stratus.Network.Policy;

namespace Stratus.Network;

/// <summary>neutron-server (Neutron Zed's v2.0 API with ML2) as a library any host composes.</summary>
public static class NetworkService
{
    public static IServiceCollection AddNetworkService(this IServiceCollection services, NetworkOptions options, TimeProvider time)
    {
        var db = DatabaseUrl.Parse(options.DatabaseConnection);
        services.AddSingleton(options);
        services.AddSingleton(time);
        services.AddServiceDb<NetworkDb>(db);
        var store = new NetworkStore(new SqlDatabase(db));
        services.AddSingleton(store);
        // Scraped all day: read without EF Core, as the API's busy paths are.
        services.AddDatabaseHealthCheck(options.DatabaseConnection)
            .AddScrapeGauge("stratus_network_agents_alive", "Agents whose last report is within agent_down_time, by agent type.", "agent_type", (sp, ct) =>
                store.AgentsAliveAsync(sp.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime - options.AgentDownTime, ct));
        services.AddSingleton<ErrorBodyWriter>(NeutronErrors.Write);
        services.AddPolicy(NeutronPolicy.Options(options.PolicyFile));
        services.AddAuthToken(options.Authtoken, "/");
        services.AddSingleton<Segments>();
        services.AddSingleton<PortBinding>();
        services.AddSingleton<L3Scheduler>();
        services.AddSingleton<Notifications.NovaNotifier>();
        return services;
    }

    public static IEndpointRouteBuilder MapNetworkApi(this IEndpointRouteBuilder app)
    {
        app.MapDiscovery();
        app.MapExtensions();
        app.MapNetworks();
        app.MapSubnets();
        app.MapSubnetPools();
        app.MapPorts();
        app.MapSecurityGroups();
        app.MapTags();
        app.MapAgents();
        app.MapQuotas();
        app.MapRouters();
        app.MapL3AgentScheduler();
        app.MapFloatingIps();
        return app;
    }
}
