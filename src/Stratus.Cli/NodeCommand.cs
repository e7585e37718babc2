using System.Net;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Stratus.Core.Config;
using Stratus.Identity;
using Stratus.Image;
using Stratus.Identity.Tokens;

namespace Stratus.Cli;

/// <summary><c>node init</c> and <c>node start</c>: one host of the seed.</summary>
static class NodeCommand
{
    public static async Task<int> InitAsync(CliArgs args)
    {
        var layout = new NodeLayout(Path.GetFullPath(args.Required("config-dir")));
        var region = args.Required("region");
        var address = args.Required("address");
        var password = args.Required("password");
        var identityUrl = args.Get("identity-url");
        args.EnsureAllUsed();
        if (!IPAddress.TryParse(address, out _)) throw new UsageException($"--address '{address}' is not an IP address");
        await InitAsync(layout, region, address, password, identityUrl);
        Console.WriteLine($"Initialised node {layout.Root} ({region} at {address}); credentials in {layout.AdminOpenrc}");
        return 0;
    }

    /// <summary>
    /// Writes the node's configuration. Without <paramref name="identityUrl"/> the node hosts the
    /// identity service: its database is created, Fernet keys set up, and bootstrap run for the region.
    /// Then each regional service's files are written and the service is registered in the identity
    /// (<paramref name="register"/>; by default in the node's own identity database, or over the
    /// identity API with the admin's password when the identity lives on another node).
    /// </summary>
    public static async Task InitAsync(NodeLayout layout, string region, string address, string password, string? identityUrl,
        Func<ServiceRegistration, Task>? register = null)
    {
        if (identityUrl is null)
        {
            if (!layout.HasIdentity) layout.WriteKeystoneConf(address);
            var options = IdentityOptions.FromIni(IniFile.Load(layout.KeystoneConf));
            await IdentityService.SyncDatabaseAsync(options);
            new FernetKeyRepository(options.KeyRepository, options.MaxActiveKeys).Setup();
            identityUrl = $"http://{address}:{options.Port}/v3";
            await using (var db = IdentityService.OpenDatabase(options))
                await Bootstrap.RunAsync(db, new BootstrapArgs
                {
                    Password = password,
                    RegionId = region,
                    AdminUrl = identityUrl + "/",
                    InternalUrl = identityUrl + "/",
                    PublicUrl = identityUrl + "/",
                }, options.PasswordHashRounds);
            register ??= r => RegisterLocallyAsync(options, r);
        }
        else
        {
            var remoteIdentity = identityUrl;
            register ??= r => IdentityAdminClient.RegisterAsync(remoteIdentity, password, r);
            // Seed 4.1: the shared identity gets endpoints in this region too (what bootstrap --bootstrap-region-id does).
            await register(new ServiceRegistration("identity", "keystone", null, region, identityUrl.TrimEnd('/') + "/"));
        }
        layout.WriteAdminOpenrc(identityUrl, region, password);

        if (!layout.HasImage) layout.WriteGlanceConf(address, IdentityRoot(identityUrl), region, password);
        var image = ImageOptions.FromIni(IniFile.Load(layout.GlanceApiConf));
        await ImageService.SyncDatabaseAsync(image);
        await register(new ServiceRegistration("image", "glance", "OpenStack Image", region, $"http://{image.BindHost}:{image.BindPort}", "glance", password));
    }

    /// <summary>Registers a service in an identity database this process can open (the node's own, or RegionOne's in `up`).</summary>
    public static async Task RegisterLocallyAsync(IdentityOptions identity, ServiceRegistration registration)
    {
        await using var db = IdentityService.OpenDatabase(identity);
        await Bootstrap.RegisterServiceAsync(db, registration, identity.PasswordHashRounds);
    }

    /// <summary>keystonemiddleware's auth_url as the seed writes it: the identity's root, without /v3.</summary>
    static string IdentityRoot(string identityUrl)
    {
        var u = identityUrl.TrimEnd('/');
        return u.EndsWith("/v3", StringComparison.Ordinal) ? u[..^3] : u;
    }

    public static async Task<int> StartAsync(CliArgs args)
    {
        var layout = new NodeLayout(Path.GetFullPath(args.Required("config-dir")));
        args.EnsureAllUsed();
        return await RunAsync([layout]);
    }

    /// <summary>
    /// Runs every service of the given nodes in this process until SIGTERM/SIGINT; SIGHUP stops them,
    /// re-reads the configuration and starts them again.
    /// </summary>
    public static async Task<int> RunAsync(IReadOnlyList<NodeLayout> nodes)
    {
        using var stop = new CancellationTokenSource();
        var reload = new SemaphoreSlim(0);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; reload.Release(); });
        while (!stop.IsCancellationRequested)
        {
            var apps = await StartServicesAsync(nodes);
            if (apps.Count == 0)
            {
                await Console.Error.WriteLineAsync("stratus: no service is configured in " + string.Join(", ", nodes.Select(n => n.Root)));
                return 1;
            }
            Console.WriteLine("ready");
            try
            {
                await reload.WaitAsync(stop.Token);
                Console.WriteLine("SIGHUP: reloading configuration");
            }
            catch (OperationCanceledException)
            {
            }
            foreach (var app in apps)
            {
                await app.StopAsync(CancellationToken.None);
                await app.DisposeAsync();
            }
        }
        return 0;
    }

    static async Task<List<WebApplication>> StartServicesAsync(IReadOnlyList<NodeLayout> nodes)
    {
        var apps = new List<WebApplication>();
        // Identity first: the regional services log in to it.
        foreach (var node in nodes.Where(n => n.HasIdentity)) apps.Add(await StartIdentityAsync(node));
        foreach (var node in nodes.Where(n => n.HasImage))
        {
            var options = ImageOptions.FromIni(IniFile.Load(node.GlanceApiConf));
            await ImageService.SyncDatabaseAsync(options);
            var app = ImageService.Build(options);
            await app.StartAsync();
            apps.Add(app);
            Console.WriteLine($"image: http://{options.BindHost}:{options.BindPort} ({node.GlanceApiConf})");
        }
        return apps;
    }

    static async Task<WebApplication> StartIdentityAsync(NodeLayout node)
    {
        var options = IdentityOptions.FromIni(IniFile.Load(node.KeystoneConf));
        await IdentityService.SyncDatabaseAsync(options);
        // Fail now, naming the fix, rather than on the first token request.
        if (!Directory.Exists(options.KeyRepository) || Directory.GetFiles(options.KeyRepository).Length == 0)
            throw new ConfigException(node.KeystoneConf, "fernet_tokens", "key_repository",
                $"{options.KeyRepository} holds no keys: run `stratus keystone-manage --config-dir {node.Root} fernet_setup`");
        var app = IdentityService.Build(options);
        await app.StartAsync();
        Console.WriteLine($"identity: http://{options.BindHost}:{options.Port}/v3 ({node.KeystoneConf})");
        return app;
    }
}
