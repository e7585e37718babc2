using Microsoft.Extensions.Hosting;
using Stratus.BlockStorage.Api;
using Stratus.BlockStorage.Data;
using Stratus.Core.Config;
using Stratus.Core.Hosting;
using Stratus.Core.Modules;

namespace Stratus.BlockStorage;

/// <summary>
/// Cinder on a node: cinder/cinder.conf as the seed's RegionTwo has it (section 5.3), cinder-api on port 8776,
/// cinder-scheduler and a cinder-volume for the node's file backend; the <c>volumev3</c>, <c>volumev2</c> and
/// <c>block-storage</c> services in the catalog of the node's region.
/// </summary>
public sealed class BlockStorageModule : ServiceModule<CinderOptions>
{
    public const string CinderConf = "cinder/cinder.conf";

    public override string Name => "block-storage";
    public override string ConfigFile => CinderConf;

    public override CinderOptions ReadOptions(IniFile ini) => CinderOptions.FromIni(ini);

    protected override void WriteDefaults(NodeInit node)
    {
        var spec = node.Spec;
        var dir = node.PathOf("cinder");
        const string header = "# Written by `stratus node init`; sections and keys as Cinder's.\n";
        node.WriteFile(CinderConf, header + IniFile.Format(
        [
            ("DEFAULT",
            [
                ("host", node.HostName), ("my_ip", spec.Address), ("osapi_volume_listen", spec.Address), ("osapi_volume_listen_port", "8776"),
                ("transport_url", spec.TransportUrl ?? $"inproc://{spec.Region.ToLowerInvariant()}"), ("auth_strategy", "keystone"),
                ("enabled_backends", "file"), ("default_volume_type", CinderOptions.DefaultTypeName),
                ("glance_api_servers", $"http://{spec.Address}:9292"), ("storage_availability_zone", "nova"), ("state_path", dir),
                ("backup_driver", CinderOptions.PosixBackupDriver), ("backup_posix_path", Path.Combine(dir, "backup")),
            ]),
            ("database", [("connection", $"sqlite:///{Path.Combine(dir, "cinder.db")}")]),
            ("keystone_authtoken", node.ServiceUser("cinder")),
            ("nova", [.. KeystoneAuthtokenOptions.Keys(node.IdentityRoot, spec.Region, "nova", spec.Password).Skip(1)]),
            ("oslo_concurrency", [("lock_path", Path.Combine(dir, "tmp"))]),
            ("file",
            [
                ("volume_driver", BackendOptions.FileDriver), ("volume_backend_name", "file"),
                ("file_volumes_dir", Path.Combine(dir, "volumes")), ("file_volume_format", "raw"),
            ]),
        ]), secret: true);
    }

    public override IEnumerable<ServiceRegistration> CatalogEntries(CinderOptions options, NodeInit node)
    {
        if (!options.Runs(CinderOptions.Api)) return [];
        var root = $"http://{options.ListenAddress}:{options.ListenPort}";
        var (user, password, region) = (options.Authtoken.Username, options.Authtoken.Password, node.Spec.Region);
        return
        [
            new("volumev3", "cinderv3", "OpenStack Block Storage", region, root + "/v3/%(project_id)s", user, password),
            new("volumev2", "cinderv2", "OpenStack Block Storage", region, root + "/v2/%(project_id)s", user, password),
            new("block-storage", "cinder", "OpenStack Block Storage", region, root + "/v3/%(project_id)s", user, password),
        ];
    }

    /// <summary>cinder-manage db sync: the schema and the __DEFAULT__ volume type.</summary>
    public override Task SyncDatabaseAsync(CinderOptions options, bool upgrade, CancellationToken ct = default) =>
        CinderDb.SyncAsync(options.DatabaseConnection, upgrade, ct);

    public override IHost Build(CinderOptions options, NodeRuntime runtime)
    {
        var bus = runtime.Bus(options.TransportUrl);
        if (!options.Runs(CinderOptions.Api))
        {
            var host = ServiceHost.CreateWorkerBuilder();
            host.Services.AddBlockStorageService(options, bus, runtime.Time);
            return host.Build();
        }
        var builder = ServiceHost.CreateBuilder(options.ListenAddress, options.ListenPort, maxRequestBodySize: 1 << 20, options.Operations);
        builder.Services.AddBlockStorageService(options, bus, runtime.Time);
        var app = builder.Build();
        app.UseServicePipeline(CinderApi.Middleware);
        app.MapBlockStorageApi();
        return app;
    }

    public override string Describe(CinderOptions options, string configFile) =>
        $"block storage: {string.Join(", ", options.Services.Where(options.Runs))} as {options.Host}" +
        (options.Runs(CinderOptions.Api) ? $" at http://{options.ListenAddress}:{options.ListenPort}" : "") +
        (options.Backends.Count > 0 ? $", backends {string.Join(", ", options.Backends.Select(b => $"{b.Section} ({b.VolumesDir})"))}" : "") + $" ({configFile})";
}
