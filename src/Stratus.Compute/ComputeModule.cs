using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Compute.Api;
using Stratus.Compute.Data;
using Stratus.Core.Config;
using Stratus.Core.Data;
using Stratus.Core.Hosting;
using Stratus.Core.Messaging;
using Stratus.Core.Modules;

namespace Stratus.Compute;

/// <summary>
/// Nova on a node: nova.conf, the API (port 8774) where nova-api runs, and nova-scheduler,
/// nova-conductor and nova-compute as <c>[stratus] services</c> says, over the bus of <c>transport_url</c>.
/// </summary>
public sealed class ComputeModule : ServiceModule<NovaOptions>
{
    public const string NovaConf = "nova/nova.conf";

    public override string Name => "compute";
    public override string ConfigFile => NovaConf;

    public override NovaOptions ReadOptions(IniFile ini) => NovaOptions.FromIni(ini);

    // The seed's controller runs the API, scheduler and conductor; its compute nodes nova-compute; a one-node region all four.
    protected override bool BelongsOn(NodeSpec spec) => true;

    /// <summary>
    /// nova.conf as the seed's (section 5.2): the region's own databases and message bus, the shared
    /// identity for tokens, and each peer found in the catalog in this node's region ([placement],
    /// [neutron], [cinder]) or at the controller ([glance] api_servers).
    /// </summary>
    protected override void WriteDefaults(NodeInit node)
    {
        var spec = node.Spec;
        string[] services = spec.Role switch
        {
            NodeRoles.Controller => [NovaOptions.Api, NovaOptions.Scheduler, NovaOptions.Conductor],
            NodeRoles.Compute => [NovaOptions.Compute],
            _ => [NovaOptions.Api, NovaOptions.Scheduler, NovaOptions.Conductor, NovaOptions.Compute],
        };
        var dir = node.PathOf("nova");
        var controller = spec.Controller ?? spec.Address;
        node.WriteFile(NovaConf, "# Written by `stratus node init`; sections and keys as Nova's nova.conf.\n" + IniFile.Format(
        [
            ("DEFAULT",
            [
                ("my_ip", spec.Address), ("host", node.HostName), ("transport_url", spec.TransportUrl ?? $"inproc://{spec.Region.ToLowerInvariant()}"),
                ("enabled_apis", "osapi_compute,metadata"), ("osapi_compute_listen", spec.Address), ("metadata_listen", spec.Address), ("state_path", dir),
                ("instances_path", Path.Combine(dir, "instances")), ("compute_driver", "libvirt.LibvirtDriver"),
            ]),
            // A compute node reaches the databases only through the conductor, and has no connection to them (install guide).
            ("api_database", spec.Role == NodeRoles.Compute ? [] : [("connection", $"sqlite:///{Path.Combine(dir, "nova_api.db")}")]),
            ("database", spec.Role == NodeRoles.Compute ? [] : [("connection", $"sqlite:///{Path.Combine(dir, "nova.db")}")]),
            ("keystone_authtoken", node.ServiceUser("nova")),
            ("glance", [("api_servers", $"http://{controller}:9292")]),
            ("neutron", [("url", $"http://{controller}:9696"), .. node.ServiceUser("neutron").Skip(1),
                ("service_metadata_proxy", "true"), ("metadata_proxy_shared_secret", spec.Password)]),
            ("cinder", [("os_region_name", spec.Region)]),
            ("placement", [("os_region_name", spec.Region), .. KeystoneAuthtokenOptions.Keys(node.IdentityRoot + "/v3", spec.Region, "placement", spec.Password).Skip(1).SkipLast(1)]),
            // virt_type is left to the probe: KVM only where a guest really boots under it, else TCG (qemu).
            ("libvirt", []),
            ("vnc", [("enabled", "true"), ("server_listen", spec.Address), ("server_proxyclient_address", spec.Address)]),
            ("oslo_concurrency", [("lock_path", Path.Combine(dir, "tmp"))]),
            ("stratus", [("services", string.Join(",", services))]),
        ]), secret: true);
    }

    public override IEnumerable<ServiceRegistration> CatalogEntries(NovaOptions options, NodeInit node) =>
        options.Runs(NovaOptions.Api)
            ? [new("compute", "nova", "OpenStack Compute", node.Spec.Region, $"http://{options.ListenAddress}:{options.ListenPort}/v2.1", options.Authtoken.Username, options.Authtoken.Password)]
            : [];

    /// <summary>nova-manage api_db sync and db sync: both databases' schemas, where a service that uses them runs.</summary>
    public override async Task SyncDatabaseAsync(NovaOptions options, bool upgrade, CancellationToken ct = default)
    {
        if (!options.UsesDatabases) return;
        await DatabaseUrl.SyncAsync<ApiDb>(options.ApiDatabase, o => new(o), ApiDb.History, upgrade, ct);
        await DatabaseUrl.SyncAsync<CellDb>(options.Database, o => new(o), CellDb.History, upgrade, ct);
    }

    public override IHost Build(NovaOptions options, NodeRuntime runtime) => Build(options, runtime.Bus(options.TransportUrl));

    /// <summary>
    /// The node's Nova: a web application serving the API when nova-api runs here (with the other
    /// services inside it), else a host running only the background services.
    /// </summary>
    public static IHost Build(NovaOptions options, IMessageBus bus)
    {
        if (!options.Runs(NovaOptions.Api))
        {
            var host = ServiceHost.CreateWorkerBuilder();
            host.Services.AddComputeService(options, bus);
            return host.Build();
        }
        var builder = ServiceHost.CreateBuilder(options.ListenAddress, options.ListenPort, maxRequestBodySize: 1 << 20, options.Operations);
        builder.Services.AddComputeService(options, bus);
        var app = builder.Build();
        app.UseServicePipeline(Microversion.Middleware);
        app.MapComputeApi();
        return app;
    }

    public override string Describe(NovaOptions options, string configFile) =>
        $"compute: {string.Join(", ", options.Services)} as {options.Host}" +
        (options.Runs(NovaOptions.Api) ? $" at http://{options.ListenAddress}:{options.ListenPort}/v2.1" : "") + $" ({configFile})";
}
