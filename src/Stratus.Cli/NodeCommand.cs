using System.Net;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Stratus.Core.Config;
using Stratus.Core.Messaging;
using Stratus.Compute;
using Stratus.Dashboard;
using Stratus.Identity;
using Stratus.Image;
using Stratus.Placement;
using Stratus.Identity.Tokens;

namespace Stratus.Cli;

/// <summary><c>node init</c> and <c>node start</c>: one host of the seed.</summary>
static class NodeCommand
{
    public static async Task<int> InitAsync(CliArgs args)
    {
        var layout = new NodeLayout(Path.GetFullPath(args.Required("config-dir")));
        var spec = new NodeSpec(args.Required("region"), args.Required("address"), args.Required("password"))
        {
            IdentityUrl = args.Get("identity-url"),
            Role = args.Get("role") ?? "all",
            Host = args.Get("host"),
            Controller = args.Get("controller"),
            TransportUrl = args.Get("transport-url"),
            DashboardPort = DashboardPort(args),
            DashboardUrl = args.Get("dashboard-url"),
        };
        args.EnsureAllUsed();
        if (!IPAddress.TryParse(spec.Address, out _)) throw new UsageException($"--address '{spec.Address}' is not an IP address");
        if (spec.Role is not ("all" or "controller" or "compute")) throw new UsageException($"--role must be all, controller or compute, not '{spec.Role}'");
        if (spec.Role == "compute" && (spec.IdentityUrl is null || spec.Controller is null))
            throw new UsageException("a compute node needs --identity-url (the shared identity) and --controller (its region's controller address)");
        await InitAsync(layout, spec);
        Console.WriteLine($"Initialised node {layout.Root} ({spec.Role} of {spec.Region} at {spec.Address}); credentials in {layout.AdminOpenrc}");
        return 0;
    }

    /// <summary>
    /// Writes the node's configuration. Without an identity URL the node hosts the identity service: its
    /// database is created, Fernet keys set up, and bootstrap run for the region. Then each service of
    /// the node's role gets its files and database, and controllers register their services in the
    /// identity (<paramref name="register"/>; by default in the node's own identity database, or over
    /// the identity API with the admin's password when the identity lives on another node).
    /// </summary>
    public static async Task InitAsync(NodeLayout layout, NodeSpec spec, Func<ServiceRegistration, Task>? register = null)
    {
        var (region, address, password) = (spec.Region, spec.Address, spec.Password);
        var identityUrl = spec.IdentityUrl;
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
        else if (spec.Role != "compute")
        {
            var remoteIdentity = identityUrl;
            register ??= r => IdentityAdminClient.RegisterAsync(remoteIdentity, password, r);
            // Seed 4.1: the shared identity gets endpoints in this region too (what bootstrap --bootstrap-region-id does).
            await register(new ServiceRegistration("identity", "keystone", null, region, identityUrl.TrimEnd('/') + "/"));
        }
        layout.WriteAdminOpenrc(identityUrl, region, password);
        var identityRoot = IdentityRoot(identityUrl);
        if (spec.Role != "compute" && !layout.HasDashboard)
        {
            if (spec.IdentityUrl is null)
                layout.WriteDashboardConf(address, spec.DashboardPort, identityUrl, region, null);
            else
                layout.WriteDashboardConf(address, spec.DashboardPort, null, region, spec.DashboardUrl ?? DashboardUrl(new Uri(identityUrl).Host, spec.DashboardPort));
        }

        if (spec.Role != "compute")
        {
            if (!layout.HasImage) layout.WriteGlanceConf(address, identityRoot, region, password);
            var image = ImageOptions.FromIni(IniFile.Load(layout.GlanceApiConf));
            await ImageService.SyncDatabaseAsync(image);
            await register!(new ServiceRegistration("image", "glance", "OpenStack Image", region, $"http://{image.BindHost}:{image.BindPort}", "glance", password));
        }

        string[] novaServices = spec.Role switch
        {
            "controller" => [NovaOptions.Api, NovaOptions.Scheduler, NovaOptions.Conductor],
            "compute" => [NovaOptions.Compute],
            _ => [NovaOptions.Api, NovaOptions.Scheduler, NovaOptions.Conductor, NovaOptions.Compute],
        };
        if (!layout.HasCompute)
            layout.WriteNovaConf(address, spec.Host ?? (spec.Role == "compute" ? "compute-" + address.Replace('.', '-') : "controller-" + address.Replace('.', '-')),
                spec.Controller ?? address, identityRoot, region, password, spec.TransportUrl ?? $"inproc://{region.ToLowerInvariant()}", novaServices);
        var nova = NovaOptions.FromIni(IniFile.Load(layout.NovaConf));
        if (nova.Runs(NovaOptions.Api) || nova.Runs(NovaOptions.Conductor) || nova.Runs(NovaOptions.Scheduler))
            await ComputeService.SyncDatabasesAsync(nova);
        if (spec.Role != "compute")
        {
            if (!layout.HasPlacement) layout.WritePlacementConf(address, identityRoot, region, password);
            var placement = PlacementOptions.FromIni(IniFile.Load(layout.PlacementConf));
            await PlacementService.SyncDatabaseAsync(placement);
            await register!(new ServiceRegistration("placement", "placement", "Placement API", region, $"http://{placement.BindHost}:{placement.BindPort}", "placement", password));
        }
        if (nova.Runs(NovaOptions.Api))
            await register!(new ServiceRegistration("compute", "nova", "OpenStack Compute", region, $"http://{address}:{nova.ListenPort}/v2.1", "nova", password));
    }

    /// <summary>Registers a service in an identity database this process can open (the node's own, or RegionOne's in `up`).</summary>
    public static async Task RegisterLocallyAsync(IdentityOptions identity, ServiceRegistration registration)
    {
        await using var db = IdentityService.OpenDatabase(identity);
        await Bootstrap.RegisterServiceAsync(db, registration, identity.PasswordHashRounds);
    }

    /// <summary>The dashboard's URL as a browser is given it: http://ADDRESS[:PORT]/dashboard.</summary>
    public static string DashboardUrl(string address, int port) => $"http://{address}{(port == 80 ? "" : ":" + port)}/dashboard";

    public static int DashboardPort(CliArgs args) =>
        args.Get("dashboard-port") is not { } p ? 80
            : int.TryParse(p, out var port) && port is > 0 and < 65536 ? port : throw new UsageException($"--dashboard-port '{p}' is not a TCP port");

    /// <summary>keystonemiddleware's auth_url as the seed writes it: the identity's root, without /v3.</summary>
    static string IdentityRoot(string identityUrl)
    {
        var u = identityUrl.TrimEnd('/');
        return u.EndsWith("/v3", StringComparison.Ordinal) ? u[..^3] : u;
    }

    public static async Task<int> StartAsync(CliArgs args)
    {
        // Several --config-dir run several nodes in one process (as `up` does), e.g. a controller and its compute nodes.
        var dirs = args.GetAll("config-dir");
        if (dirs.Count == 0) throw new UsageException("--config-dir is required");
        args.EnsureAllUsed();
        return await RunAsync([.. dirs.Select(d => new NodeLayout(Path.GetFullPath(d)))]);
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
            // Stop in reverse: the regional services before the identity they log in to.
            foreach (var host in Enumerable.Reverse(apps))
            {
                await host.StopAsync(CancellationToken.None);
                if (host is IAsyncDisposable d) await d.DisposeAsync();
                else host.Dispose();
            }
        }
        return 0;
    }

    static async Task<List<IHost>> StartServicesAsync(IReadOnlyList<NodeLayout> nodes)
    {
        var hosts = new List<IHost>();
        // Identity first: the regional services log in to it.
        foreach (var node in nodes.Where(n => n.HasIdentity)) hosts.Add(await StartIdentityAsync(node));
        foreach (var node in nodes.Where(n => n.HasPlacement))
        {
            var options = PlacementOptions.FromIni(IniFile.Load(node.PlacementConf));
            await PlacementService.SyncDatabaseAsync(options);
            var app = PlacementService.Build(options);
            await app.StartAsync();
            hosts.Add(app);
            Console.WriteLine($"placement: http://{options.BindHost}:{options.BindPort} ({node.PlacementConf})");
        }
        foreach (var node in nodes.Where(n => n.HasCompute))
        {
            var options = NovaOptions.FromIni(IniFile.Load(node.NovaConf));
            var bus = MessageBus.FromTransportUrl(options.TransportUrl);
            if (options.Runs(NovaOptions.Api) || options.Runs(NovaOptions.Conductor)) await ComputeService.SyncDatabasesAsync(options);
            var host = ComputeService.Build(options, bus);
            await host.StartAsync();
            hosts.Add(host);
            Console.WriteLine($"compute: {string.Join(", ", options.Services)} as {options.Host}" +
                (options.Runs(NovaOptions.Api) ? $" at http://{options.ListenAddress}:{options.ListenPort}/v2.1" : "") + $" ({node.NovaConf})");
        }
        foreach (var node in nodes.Where(n => n.HasImage))
        {
            var options = ImageOptions.FromIni(IniFile.Load(node.GlanceApiConf));
            await ImageService.SyncDatabaseAsync(options);
            var app = ImageService.Build(options);
            await app.StartAsync();
            hosts.Add(app);
            Console.WriteLine($"image: http://{options.BindHost}:{options.BindPort} ({node.GlanceApiConf})");
        }
        foreach (var node in nodes.Where(n => n.HasDashboard)) hosts.Add(await StartDashboardAsync(node));
        return hosts;
    }

    static async Task<WebApplication> StartDashboardAsync(NodeLayout node)
    {
        var options = DashboardOptions.FromIni(IniFile.Load(node.DashboardConf));
        var app = DashboardService.Build(options);
        try
        {
            await app.StartAsync();
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new ConfigException(node.DashboardConf, "DEFAULT", "bind_port", $"cannot listen on {options.BindHost}:{options.BindPort}: {e.Message}");
        }
        Console.WriteLine(options.ServesDashboard
            ? $"dashboard: {DashboardUrl(options.BindHost, options.BindPort)} ({node.DashboardConf})"
            : $"dashboard: http://{options.BindHost}{(options.BindPort == 80 ? "" : ":" + options.BindPort)}/ redirects to {options.RootRedirect} ({node.DashboardConf})");
        return app;
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
