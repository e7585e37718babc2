using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Core.Config;
using Stratus.Core.Data;
using Stratus.Core.Hosting;
using Stratus.Core.Modules;
using Stratus.Image.Store;

namespace Stratus.Image;

/// <summary>The image service (Glance v2) on a node: glance-api.conf, its database and file store, port 9292.</summary>
public sealed class ImageModule : ServiceModule<ImageOptions>
{
    public const string GlanceApiConf = "glance/glance-api.conf";

    public override string Name => "image";
    public override string ConfigFile => GlanceApiConf;

    public override ImageOptions ReadOptions(IniFile ini) => ImageOptions.FromIni(ini);

    /// <summary>
    /// glance-api.conf as the seed's RegionTwo has it (section 5.1): the region's own database and file
    /// store, and <c>[keystone_authtoken]</c> pointing at the shared identity with the region's name.
    /// glance-registry.conf carries the same sections, as in the seed (Stratus has no separate registry).
    /// </summary>
    protected override void WriteDefaults(NodeInit node)
    {
        var dir = node.PathOf("glance");
        (string, IEnumerable<(string, string)>) database = ("database", [("connection", $"sqlite:///{Path.Combine(dir, "glance.db")}")]);
        (string, IEnumerable<(string, string)>) authtoken = ("keystone_authtoken", node.ServiceUser("glance"));
        (string, IEnumerable<(string, string)>) paste = ("paste_deploy", [("flavor", "keystone")]);
        node.WriteFile(GlanceApiConf, "# Written by `stratus node init`; sections and keys as Glance's glance-api.conf.\n" + IniFile.Format(
        [
            ("DEFAULT", [("bind_host", node.Spec.Address), ("bind_port", "9292"), ("node_staging_uri", $"file://{Path.Combine(dir, "staging")}/")]),
            database,
            ("glance_store", [("stores", "file,http"), ("default_store", "file"), ("filesystem_store_datadir", Path.Combine(dir, "images") + "/")]),
            authtoken,
            paste,
        ]), secret: true);
        node.WriteFile("glance/glance-registry.conf", "# Accepted for the seed's layout; the image API does not read it.\n" +
            IniFile.Format([("DEFAULT", []), database, authtoken, paste]), secret: true);
    }

    public override IEnumerable<ServiceRegistration> CatalogEntries(ImageOptions options, NodeInit node) =>
        [new("image", "glance", "OpenStack Image", node.Spec.Region, $"http://{options.BindHost}:{options.BindPort}", options.Authtoken.Username, options.Authtoken.Password)];

    /// <summary>glance-manage db_sync: creates the schema if missing.</summary>
    public override Task SyncDatabaseAsync(ImageOptions options, bool upgrade, CancellationToken ct = default) =>
        DatabaseUrl.SyncAsync<ImageDb>(options.DatabaseConnection, o => new(o), ImageDb.History, upgrade, ct);

    public override IHost Build(ImageOptions options, NodeRuntime runtime) => Build(options, b => b.Services.AddSingleton(runtime.Time));

    /// <summary>The image API on the node's address and Glance's port (9292).</summary>
    public static WebApplication Build(ImageOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        // Metadata requests are small; image data lifts this limit per request (image_size_cap applies).
        var builder = ServiceHost.CreateBuilder(options.BindHost, options.BindPort, maxRequestBodySize: 1 << 20, options.Operations);
        // Image data moves in bulk: larger socket reads, far fewer system calls.
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        builder.Services.AddImageService(options);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.Services.GetRequiredService<FileStore>().RemovePartialFiles();
        app.UseServicePipeline(static (http, next) =>
        {
            // Glance's routes have no trailing slash: "/v2/images/" is not the list, and "/v2/images//file" no image.
            var path = http.Request.Path.Value ?? "/";
            if (path.Length > 1 && (path.EndsWith('/') || path.Contains("//", StringComparison.Ordinal)))
                throw OpenStackError.NotFound("The resource could not be found.");
            return next(http);
        });
        app.MapImageApi();
        return app;
    }

    public override string Describe(ImageOptions options, string configFile) => $"image: http://{options.BindHost}:{options.BindPort} ({configFile})";
}
