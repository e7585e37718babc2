using System.Net;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Stratus.Core.Config;
using Stratus.Identity;
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
    /// </summary>
    public static async Task InitAsync(NodeLayout layout, string region, string address, string password, string? identityUrl)
    {
        if (identityUrl is null)
        {
            if (!layout.HasIdentity) layout.WriteKeystoneConf(address);
            var options = IdentityOptions.FromIni(IniFile.Load(layout.KeystoneConf));
            await IdentityService.SyncDatabaseAsync(options);
            new FernetKeyRepository(options.KeyRepository, options.MaxActiveKeys).Setup();
            identityUrl = $"http://{address}:{options.Port}/v3";
            await using var db = IdentityService.OpenDatabase(options);
            await Bootstrap.RunAsync(db, new BootstrapArgs
            {
                Password = password,
                RegionId = region,
                AdminUrl = identityUrl + "/",
                InternalUrl = identityUrl + "/",
                PublicUrl = identityUrl + "/",
            }, options.PasswordHashRounds);
        }
        layout.WriteAdminOpenrc(identityUrl, region, password);
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
        foreach (var node in nodes)
        {
            if (!node.HasIdentity) continue;
            var options = IdentityOptions.FromIni(IniFile.Load(node.KeystoneConf));
            await IdentityService.SyncDatabaseAsync(options);
            // Fail now, naming the fix, rather than on the first token request.
            if (!Directory.Exists(options.KeyRepository) || Directory.GetFiles(options.KeyRepository).Length == 0)
                throw new ConfigException(node.KeystoneConf, "fernet_tokens", "key_repository",
                    $"{options.KeyRepository} holds no keys: run `stratus keystone-manage --config-dir {node.Root} fernet_setup`");
            var app = IdentityService.Build(options);
            await app.StartAsync();
            apps.Add(app);
            Console.WriteLine($"identity: http://{options.BindHost}:{options.Port}/v3 ({node.KeystoneConf})");
        }
        return apps;
    }
}
