using System.Net;
using System.Runtime.InteropServices;
using Stratus.Core.Modules;
using Stratus.Dashboard;

namespace Stratus.Cli;

/// <summary><c>node init</c> and <c>node start</c>: one host of the seed, its services those of <see cref="ServiceModules"/>.</summary>
static class NodeCommand
{
    public static async Task<int> InitAsync(CliArgs args)
    {
        var layout = new NodeLayout(Path.GetFullPath(args.Required("config-dir")));
        var spec = new NodeSpec(args.Required("region"), args.Required("address"), args.Required("password"))
        {
            IdentityUrl = args.Get("identity-url"),
            Role = args.Get("role") ?? NodeRoles.All,
            Host = args.Get("host"),
            Controller = args.Get("controller"),
            TransportUrl = args.Get("transport-url"),
            DashboardPort = DashboardPort(args),
            DashboardUrl = args.Get("dashboard-url"),
        };
        args.EnsureAllUsed();
        if (!IPAddress.TryParse(spec.Address, out _)) throw new UsageException($"--address '{spec.Address}' is not an IP address");
        if (spec.Role is not (NodeRoles.All or NodeRoles.Controller or NodeRoles.Compute))
            throw new UsageException($"--role must be all, controller or compute, not '{spec.Role}'");
        if (spec.Role == NodeRoles.Compute && (spec.IdentityUrl is null || spec.Controller is null))
            throw new UsageException("a compute node needs --identity-url (the shared identity) and --controller (its region's controller address)");
        await InitAsync(layout, spec);
        Console.WriteLine($"Initialised node {layout.Root} ({spec.Role} of {spec.Region} at {spec.Address}); credentials in {layout.AdminOpenrc}");
        return 0;
    }

    /// <summary>
    /// Writes the node's configuration: every module that belongs on the node's role gets its files and
    /// database, and registers in the identity's catalog (<paramref name="catalog"/>; by default the
    /// node's own identity database, or the shared identity's API with the admin's password).
    /// </summary>
    public static async Task<NodeInit> InitAsync(NodeLayout layout, NodeSpec spec, ICatalogRegistry? catalog = null)
    {
        var init = new NodeInit(layout.Root, spec, catalog);
        try
        {
            await Node.InitAsync(ServiceModules.All, init);
        }
        catch (RegistrationException e)
        {
            throw new UsageException(e.Message);
        }
        init.WriteFile("admin-openrc", NodeLayout.FormatAdminOpenrc(init.IdentityV3, spec.Region, spec.Password), secret: true);
        return init;
    }

    public static int DashboardPort(CliArgs args) =>
        args.Get("dashboard-port") is not { } p ? 80
            : int.TryParse(p, out var port) && port is > 0 and < 65536 ? port : throw new UsageException($"--dashboard-port '{p}' is not a TCP port");

    public static async Task<int> StartAsync(CliArgs args)
    {
        // Several --config-dir run several nodes in one process (as `up` does), e.g. a controller and its compute nodes.
        var dirs = args.GetAll("config-dir");
        if (dirs.Count == 0) throw new UsageException("--config-dir is required");
        args.EnsureAllUsed();
        return await RunAsync([.. dirs.Select(Path.GetFullPath)]);
    }

    /// <summary>
    /// Runs every service of the given nodes in this process until SIGTERM/SIGINT; SIGHUP stops them,
    /// re-reads the configuration and starts them again.
    /// </summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> configDirs)
    {
        using var stop = new CancellationTokenSource();
        var reload = new SemaphoreSlim(0);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; reload.Release(); });
        while (!stop.IsCancellationRequested)
        {
            await using var runtime = new NodeRuntime();
            var services = await Node.StartAsync(ServiceModules.All, configDirs, runtime);
            if (services.Count == 0)
            {
                await Console.Error.WriteLineAsync("stratus: no service is configured in " + string.Join(", ", configDirs));
                return 1;
            }
            foreach (var s in services) Console.WriteLine(s.Description);
            Console.WriteLine("ready");
            try
            {
                await reload.WaitAsync(stop.Token);
                Console.WriteLine("SIGHUP: reloading configuration");
            }
            catch (OperationCanceledException)
            {
            }
            await Node.StopAsync(services);
        }
        return 0;
    }
}
