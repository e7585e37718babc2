using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Compute.Agent;
using Stratus.Compute.Api;
using Stratus.Compute.Conductor;
using Stratus.Compute.Images;
using Stratus.Compute.Metadata;
using Stratus.Compute.Network;
using Stratus.Compute.Placement;
using Stratus.Compute.Policy;
using Stratus.Compute.Rpc;
using Stratus.Compute.Scheduler;
using Stratus.Compute.TestImage;
using Stratus.Compute.Virt;
using Stratus.Compute.Virt.Fake;
using Stratus.Compute.Virt.Qemu;
using Stratus.Core.Data;
using Stratus.Core.Hosting;
using Stratus.Core.Messaging;
using Stratus.Core.Operations;
using Stratus.Core.Services;

namespace Stratus.Compute;

/// <summary>
/// Nova as a library any host composes: the API on port 8774 when the node runs nova-api, and
/// nova-scheduler, nova-conductor and nova-compute as hosted services, as nova.conf's
/// <c>[stratus] services</c> says; all of them talk over the bus that <c>transport_url</c> names.
/// </summary>
public static class ComputeService
{
    public static IServiceCollection AddComputeService(this IServiceCollection services, NovaOptions options, IMessageBus bus)
    {
        services.AddSingleton(options);
        services.AddSingleton(new ServiceGroup(options.ReportInterval, options.ServiceDownTime, TimeProvider.System));
        services.AddSingleton(bus);
        services.AddSingleton<ConductorApi>();
        services.AddSingleton<SchedulerApi>();
        services.AddSingleton<ComputeApi>();
        // A compute node's nova-compute does not reach the databases: it has no connection to them.
        if (options.UsesDatabases)
        {
            var api = DatabaseUrl.Parse(options.ApiDatabase);
            var cell = DatabaseUrl.Parse(options.Database);
            services.AddServiceDb<ApiDb>(api);
            services.AddServiceDb<CellDb>(cell);
            services.AddDatabaseHealthCheck(options.ApiDatabase, "API database").AddDatabaseHealthCheck(options.Database)
                .AddScrapeGauge("stratus_compute_servers", "Servers (not deleted) by vm_state.", "state", async (sp, ct) =>
                    await sp.GetRequiredService<CellDb>().Instances.Where(i => !i.Deleted).GroupBy(i => i.VmState)
                        .ToDictionaryAsync(g => g.Key, g => g.LongCount(), StringComparer.Ordinal, ct));
        }
        services.AddMessageBusHealthCheck(bus).AddQueueDepthGauge(bus, ComputeRpc.ConductorTopic, ComputeRpc.SchedulerTopic, ComputeRpc.ComputeTopic);
        services.AddSingleton<ErrorBodyWriter>(ComputeErrors.Write);
        services.AddPolicy(NovaPolicy.Options(options.PolicyFile));
        services.AddAuthToken(options.Authtoken, "/", "/v2.1");
        // A missing or broken [placement] is reported where placement is needed (seed section 6), not at start.
        services.AddSingleton(_ => options.Placement is null
            ? new PlacementClient(null, options.PlacementError)
            : new PlacementClient(new KeystoneSession(options.Placement, new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }))));
        services.AddSingleton(_ => new NeutronClient(options.Neutron is null ? null
            : new KeystoneSession(options.Neutron, new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })), options));
        services.AddSingleton(sp => new ImageClient(sp.GetRequiredService<KeystoneSession>(), options));
        services.AddSingleton(sp => new Volumes.CinderClient(sp.GetRequiredService<KeystoneSession>(), options));
        if (options.Runs(NovaOptions.Api) && options.MetadataApi) services.AddHostedService<MetadataServer>();
        if (options.Runs(NovaOptions.Conductor)) services.AddHostedService<ConductorService>();
        if (options.Runs(NovaOptions.Conductor) || options.Runs(NovaOptions.Scheduler)) services.AddHostedService<ServiceHeartbeat>();
        if (options.Runs(NovaOptions.Scheduler)) services.AddHostedService<SchedulerService>();
        if (options.Runs(NovaOptions.Compute))
        {
            services.AddSingleton<IVirtDriver>(_ => CreateDriver(options));
            services.AddSingleton(new ImageCache(options.InstancesPath));
            services.AddSingleton<InstanceEvents>();
            services.AddSingleton<Volumes.HostVolumes>();
            services.AddHostedService<ComputeAgent>();
        }
        return services;
    }

    static IVirtDriver CreateDriver(NovaOptions options)
    {
        if (options.ComputeDriver == "fake.FakeDriver") return new FakeDriver(spawnTime: options.FakeSpawnTime);
        var cache = TestImageBuilder.DefaultCacheDirectory();
        var probeKernel = Directory.Exists(cache) ? Directory.EnumerateFiles(cache, "vmlinuz*", SearchOption.AllDirectories).FirstOrDefault() : null;
        return new QemuDriver(new QemuDriverOptions
        {
            InstancesPath = options.InstancesPath,
            VirtType = options.VirtType switch { "qemu" => Accelerator.Tcg, "kvm" => Accelerator.Kvm, _ => null },
            ProbeKernel = probeKernel,
            MkisofsCmd = options.MkisofsCmd,
        });
    }

    public static IEndpointRouteBuilder MapComputeApi(this IEndpointRouteBuilder app)
    {
        app.MapComputeVersions();
        var v21 = app.MapGroup("/v2.1");
        v21.MapFlavors();
        v21.MapKeyPairs();
        v21.MapServers();
        v21.MapServerActions();
        v21.MapInstanceActions();
        v21.MapServices();
        v21.MapHypervisors();
        v21.MapLimits();
        v21.MapServerGroups();
        v21.MapServerTags();
        v21.MapServerMetadata();
        v21.MapAggregates();
        v21.MapUsage();
        v21.MapExtensions();
        v21.MapImages();
        v21.MapVolumeAttachments();
        v21.MapVolumes();
        v21.MapServerExternalEvents();
        v21.MapInterfaces();
        v21.MapNetworks();
        v21.MapSecurityGroups();
        v21.MapFloatingIps();
        return app;
    }
}
