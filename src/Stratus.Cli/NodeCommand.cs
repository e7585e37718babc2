using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Stratus.Core.Hosting;
using Stratus.Core.Modules;
using Stratus.Dashboard;

namespace Stratus.Cli;

/// <summary><c>node init</c> and <c>node start</c>: one host of the seed, its services those of <see cref="ServiceModules"/>.</summary>
static class NodeCommand
{
    public static async Task<int> InitAsync(string configDir, NodeSpec spec)
    {
        var layout = new NodeLayout(configDir);
        // IPAddress.TryParse also takes inet_aton's short forms ("10.1" for 10.0.0.1): an address here has its four parts.
        if (!IPAddress.TryParse(spec.Address, out var ip) || (ip.AddressFamily == AddressFamily.InterNetwork && spec.Address.Count(c => c == '.') != 3))
            throw new UsageException($"--address '{spec.Address}' is not an IP address");
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

    /// <summary>
    /// <c>node start</c>: runs every service of the given nodes in this process until SIGTERM/SIGINT; SIGHUP stops them,
    /// re-reads the configuration and starts them again.
    /// </summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> configDirs, bool upgradeDatabases)
    {
        using var stop = new CancellationTokenSource();
        var reload = new SemaphoreSlim(0);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; reload.Release(); });
        foreach (var dir in configDirs) await File.WriteAllTextAsync(Path.Combine(dir, PidFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        using var trimStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        var trim = IdleMemoryTrim.RunAsync(TimeProvider.System, trimStop.Token);
        try
        {
            return await RunUntilStoppedAsync(configDirs, upgradeDatabases, stop.Token, reload);
        }
        finally
        {
            await trimStop.CancelAsync();
            await trim;
            foreach (var dir in configDirs) File.Delete(Path.Combine(dir, PidFile));
        }
    }

    /// <summary>The file in a node's directory naming the <c>node start</c> that runs it (what <c>region join</c> sends SIGHUP to).</summary>
    const string PidFile = "node.pid";

    /// <summary>The process running the node, if one is.</summary>
    public static int? RunningPid(string configDir)
    {
        var path = Path.Combine(configDir, PidFile);
        if (!File.Exists(path) || !int.TryParse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture, out var pid)) return null;
        // A pid file left behind by a node that was killed may name another program by now: only a stratus counts.
        var cmdline = $"/proc/{pid}/cmdline";
        return File.Exists(cmdline) && File.ReadAllText(cmdline).Contains("stratus", StringComparison.Ordinal) ? pid : null;
    }

    static async Task<int> RunUntilStoppedAsync(IReadOnlyList<string> configDirs, bool upgradeDatabases, CancellationToken stop, SemaphoreSlim reload)
    {
        while (!stop.IsCancellationRequested)
        {
            await using var runtime = new NodeRuntime { UpgradeDatabases = upgradeDatabases };
            IReadOnlyList<StartedService> services;
            try
            {
                // Each service's line as it comes up: the progress of a start.
                services = await Node.StartAsync(ServiceModules.ConfiguredIn(configDirs), configDirs, runtime, stop, s => Console.WriteLine(s.Description));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // SIGTERM during a start or a reload: what had started is stopped already.
                return 0;
            }
            if (services.Count == 0)
            {
                await Console.Error.WriteLineAsync("stratus: no service is configured in " + string.Join(", ", configDirs));
                return 1;
            }
            Console.WriteLine("ready");
            try
            {
                await reload.WaitAsync(stop);
                Console.WriteLine("SIGHUP: reloading configuration");
            }
            catch (OperationCanceledException)
            {
            }
            await Node.StopAsync(services);
        }
        return 0;
    }

    /// <summary>
    /// <c>node install-units</c>: a systemd unit that runs the node (<c>node start</c>), restarts it when it fails,
    /// reloads it with SIGHUP and logs to journald, named after the node's directory.
    /// </summary>
    public static int InstallUnits(string configDir, string outputDir)
    {
        var services = ServiceModules.ConfiguredIn([configDir]).Select(m => m.Name).ToList();
        if (services.Count == 0) throw new UsageException($"no service is configured in {configDir}: make the node with ./stratus node init first");
        var entry = Environment.GetEnvironmentVariable("STRATUS_ENTRY") ?? Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "stratus"));
        var name = "stratus-node-" + UnitName(Path.GetFileName(configDir.TrimEnd('/')));
        var unit = $"""
            # Written by `stratus node install-units`: the Stratus node in {configDir}.
            [Unit]
            Description=Stratus node {configDir.Replace("%", "%%", StringComparison.Ordinal)} ({string.Join(", ", services)})
            Wants=network-online.target
            After=network-online.target

            [Service]
            Type=simple
            ExecStart={Quote(entry)} node start --config-dir {Quote(configDir)}
            ExecReload=/bin/kill -HUP $MAINPID
            KillSignal=SIGTERM
            TimeoutStopSec=90
            Restart=on-failure
            RestartSec=5
            StandardOutput=journal
            StandardError=journal
            SyslogIdentifier={name}

            [Install]
            WantedBy=multi-user.target

            """;
        Directory.CreateDirectory(outputDir);
        var path = Path.Combine(outputDir, name + ".service");
        File.WriteAllText(path, unit);
        Console.WriteLine($"{path}: runs {string.Join(", ", services)}");
        Console.WriteLine($"Then: systemctl daemon-reload && systemctl enable --now {name}; logs: journalctl -u {name}");
        return 0;
    }

    /// <summary>A path as one argument of a unit's command line: quoted, with systemd's specifiers and variables escaped.</summary>
    static string Quote(string path) =>
        '"' + path.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("%", "%%", StringComparison.Ordinal).Replace("$", "$$", StringComparison.Ordinal) + '"';

    /// <summary>A directory name as a unit name may hold it: letters, digits, '-', '_' and '.'.</summary>
    static string UnitName(string name) =>
        string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-'));
}
