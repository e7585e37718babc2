using Microsoft.Extensions.DependencyInjection;
using Stratus.BlockStorage.Api;
using Stratus.BlockStorage.Backup;
using Stratus.BlockStorage.Policy;
using Stratus.BlockStorage.Rpc;
using Stratus.BlockStorage.Scheduler;
using Stratus.BlockStorage.Volume;
using Stratus.Core.Data;
using Stratus.Core.Messaging;
using Stratus.Core.Operations;
using Stratus.Core.Services;

namespace Stratus.BlockStorage;

/// <summary>
/// Cinder as a library any host composes: cinder-api on port 8776 and, as cinder.conf's <c>[stratus] services</c>
/// says, cinder-scheduler and cinder-volume (one per enabled backend) as hosted services on the region's bus.
/// </summary>
public static class BlockStorageService
{
    public static IServiceCollection AddBlockStorageService(this IServiceCollection services, CinderOptions options, IMessageBus bus, TimeProvider time)
    {
        var db = DatabaseUrl.Parse(options.DatabaseConnection);
        services.AddSingleton(options);
        services.AddSingleton(time);
        services.AddSingleton(bus);
        services.AddSingleton(new ServiceGroup(options.ReportInterval, options.ServiceDownTime, time));
        services.AddServiceDb<CinderDb>(db);
        var store = new CinderStore(new SqlDatabase(db));
        services.AddSingleton(store);
        // Scraped all day: read without EF Core, as the heartbeats are.
        services.AddDatabaseHealthCheck(options.DatabaseConnection).AddMessageBusHealthCheck(bus)
            .AddQueueDepthGauge(bus, VolumeRpc.SchedulerTopic, VolumeRpc.VolumeTopic)
            .AddScrapeGauge("stratus_block_storage_volumes", "Volumes by status.", "status", (_, ct) => store.VolumesByStatusAsync(ct));
        services.AddSingleton<SchedulerApi>();
        services.AddSingleton<VolumeApi>();
        services.AddSingleton<BackupApi>();
        if (options.Runs(CinderOptions.Api))
        {
            services.AddSingleton<ErrorBodyWriter>(e => ErrorBodies.Fault(e, namesNotAcceptable: false));
            services.AddPolicy(CinderPolicy.Options(options.PolicyFile));
            services.AddAuthToken(options.Authtoken, "/", "/v3");
            services.AddSingleton<Quotas>();
            services.AddSingleton(new ImageLookup(options, PeerClient()));
        }
        // cinder-volume first: the host starts services in order, and its recovery must be done before the scheduler places anything.
        if (options.Runs(CinderOptions.Volume) && options.Backends.Count > 0)
        {
            services.AddSingleton(new GlanceClient(PeerClient()));
            services.AddHostedService<VolumeManager>();
        }
        if (options.Runs(CinderOptions.Scheduler)) services.AddHostedService<SchedulerService>();
        // After cinder-volume: a backup interrupted by a crash is cleaned up once the volumes are.
        if (options.Runs(CinderOptions.Backup)) services.AddHostedService<BackupManager>();
        return services;
    }

    static HttpClient PeerClient() => new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(10) })
    {
        // An image's bytes can take long; the connect timeout above catches a dead image service.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public static IEndpointRouteBuilder MapBlockStorageApi(this IEndpointRouteBuilder app)
    {
        app.MapVersions();
        // Zed serves v3 only; v2 answers as 3.0 for clients of the seed's volumev2 endpoint.
        foreach (var version in new[] { "/v3/{project_id}", "/v2/{project_id}" })
        {
            var project = app.MapGroup(version).RequireUrlProject();
            project.MapVolumes();
            project.MapVolumeActions();
            project.MapSnapshots();
            project.MapTypes();
            project.MapAttachments();
            project.MapServices();
            project.MapQuotas();
            project.MapMessages();
            project.MapTransfers();
            project.MapQosSpecs();
            project.MapHosts();
            project.MapCapabilities();
            project.MapSchedulerStats();
            project.MapExtensions();
            project.MapBackups();
            project.MapGroupTypes();
            project.MapGroups();
            project.MapGroupSnapshots();
        }
        return app;
    }
}
