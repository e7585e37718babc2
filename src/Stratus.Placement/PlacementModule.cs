using Microsoft.Extensions.Hosting;
using Stratus.Core.Config;
using Stratus.Core.Data;
using Stratus.Core.Hosting;
using Stratus.Core.Modules;
using Stratus.Placement.Api;

namespace Stratus.Placement;

/// <summary>The placement service on a node: placement.conf, its database, port 8778.</summary>
public sealed class PlacementModule : ServiceModule<PlacementOptions>
{
    public const string PlacementConf = "placement/placement.conf";

    public override string Name => "placement";
    public override string ConfigFile => PlacementConf;

    public override PlacementOptions ReadOptions(IniFile ini) => PlacementOptions.FromIni(ini);

    /// <summary>
    /// placement.conf as Placement's: the region's own database, auth through the shared identity.
    /// OpenStack leaves the listening address to Apache; Stratus reads it from [DEFAULT] bind_host/bind_port.
    /// </summary>
    protected override void WriteDefaults(NodeInit node) =>
        node.WriteFile(PlacementConf, "# Written by `stratus node init`; sections and keys as Placement's placement.conf.\n" + IniFile.Format(
        [
            ("DEFAULT", [("bind_host", node.Spec.Address), ("bind_port", "8778")]),
            ("api", [("auth_strategy", "keystone")]),
            ("placement_database", [("connection", $"sqlite:///{node.PathOf("placement/placement.db")}")]),
            ("keystone_authtoken", node.ServiceUser("placement")),
        ]), secret: true);

    public override IEnumerable<ServiceRegistration> CatalogEntries(PlacementOptions options, NodeInit node) =>
        [new("placement", "placement", "Placement API", node.Spec.Region, $"http://{options.BindHost}:{options.BindPort}", options.Authtoken.Username, options.Authtoken.Password)];

    /// <summary>placement-manage db sync: creates the schema if missing.</summary>
    public override Task SyncDatabaseAsync(PlacementOptions options, bool upgrade, CancellationToken ct = default) =>
        DatabaseUrl.SyncAsync<PlacementDb>(options.DatabaseConnection, o => new(o), PlacementDb.History, upgrade, ct);

    public override IHost Build(PlacementOptions options, NodeRuntime runtime) => Build(options);

    public static WebApplication Build(PlacementOptions options)
    {
        var builder = ServiceHost.CreateBuilder(options.BindHost, options.BindPort, maxRequestBodySize: 1 << 20, options.Operations);
        builder.Services.AddPlacementService(options);
        var app = builder.Build();
        app.UseServicePipeline(PlacementVersion.Middleware);
        app.MapPlacementApi();
        return app;
    }

    public override string Describe(PlacementOptions options, string configFile) => $"placement: http://{options.BindHost}:{options.BindPort} ({configFile})";
}
