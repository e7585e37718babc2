using System.CommandLine;
using Stratus.Core.Config;
using Stratus.Core.Data;
using Stratus.Core.Modules;

namespace Stratus.Cli;

/// <summary>
/// The verbs of <c>./stratus</c>, on System.CommandLine: <c>--help</c> on every verb, errors that name the unknown
/// option or verb with the ones that exist, and completions (its <c>[suggest]</c> directive, for dotnet-suggest).
/// </summary>
static class Commands
{
    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            // Our own errors are handled below: System.CommandLine's handler would print a stack trace. Signals too:
            // `node start` and `up` stop their services on SIGTERM/SIGINT themselves, and System.CommandLine's own
            // handler would return from Main two seconds later, while guests and databases are still closing.
            var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
            return await Root().Parse(args).InvokeAsync(config);
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync($"stratus: {e.Message}");
            return 2;
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"stratus: configuration error: {e.Message}");
            return 1;
        }
        catch (SchemaVersionException e)
        {
            await Console.Error.WriteLineAsync($"stratus: {e.Message}");
            return 1;
        }
    }

    static RootCommand Root()
    {
        var root = new RootCommand("Stratus: a multi-region cloud with the OpenStack APIs.")
        {
            Up(),
            Openrc(),
            Status(),
            Doctor(),
            new Command("node", "One host of the seed: its config files and its services.") { NodeInit(), NodeStart(), NodeInstallUnits() },
            new Command("region", "Make a cloud a region of another (seed sections 4 and 5), or undo it.") { RegionJoin(), RegionLeave() },
            KeystoneManage(),
            // The other services' database verbs, as operators know them from the install guides.
            // (Each module made when its verb runs: building the verbs loads no service's assembly.)
            Manage("glance-manage", Image.ImageModule.GlanceApiConf, () => ServiceModules.Of<Image.ImageModule>(), "glance", ["db_sync"], ["db", "sync"]),
            Manage("nova-manage", Compute.ComputeModule.NovaConf, () => ServiceModules.Of<Compute.ComputeModule>(), "nova", ["api_db", "sync"], ["db", "sync"]),
            Manage("placement-manage", Placement.PlacementModule.PlacementConf, () => ServiceModules.Of<Placement.PlacementModule>(), "placement", ["db", "sync"]),
            Manage("cinder-manage", BlockStorage.BlockStorageModule.CinderConf, () => ServiceModules.Of<BlockStorage.BlockStorageModule>(), "cinder", ["db", "sync"]),
            Manage("neutron-db-manage", Network.NetworkModule.NeutronConf, () => ServiceModules.Of<Network.NetworkModule>(), "neutron", ["upgrade", "heads"]),
            TestImage(),
        };
        // `stratus help [verb...]`, as many CLIs have it: the help of the verb named, or the list of verbs.
        var verb = new Argument<string[]>("verb") { Arity = ArgumentArity.ZeroOrMore };
        var help = new Command("help", "Show the verbs, or the help of one (stratus help node init).") { verb };
        help.SetAction((r, ct) => root.Parse([.. r.GetValue(verb) ?? [], "--help"]).InvokeAsync(cancellationToken: ct));
        root.Subcommands.Add(help);
        return root;
    }

    static Option<int> DashboardPort() => new("--dashboard-port")
    {
        Description = "The dashboard's port",
        DefaultValueFactory = _ => 80,
        Validators = { r => { if (r.GetValueOrDefault<int>() is < 1 or > 65535) r.AddError($"--dashboard-port '{r.GetValueOrDefault<int>()}' is not a TCP port"); } },
    };

    static Option<string> Data() => new("--data") { Description = "Where up's cloud keeps its nodes' files and data (default: $STRATUS_DATA, else .data)" };

    static string DataDir(ParseResult r, Option<string> data) =>
        Path.GetFullPath(r.GetValue(data) ?? Environment.GetEnvironmentVariable("STRATUS_DATA") ?? ".data");

    static Command Openrc()
    {
        var region = new Option<string>("--region") { Description = "The region whose services the credentials select (default: the node's own)" };
        var configDir = new Option<string>("--config-dir") { Description = "A node's directory (default: up's RegionOne controller)" };
        var data = Data();
        var command = new Command("openrc", "Print the admin credentials file (the seed's admin-openrc) to source.") { region, configDir, data };
        command.SetAction(r => OpenrcCommand.Run(
            r.GetValue(configDir) is { } dir ? Path.GetFullPath(dir) : UpCommand.RegionOne(DataDir(r, data)).Root, r.GetValue(region)));
        return command;
    }

    static Command Status()
    {
        var configDir = new Option<string>("--config-dir") { Description = "A node's directory, whose admin-openrc is used (default: up's RegionOne controller)" };
        var data = Data();
        var command = new Command("status", "Show every region's services and agents and their state (exit 1 when one is down).") { configDir, data };
        command.SetAction((r, ct) => StatusCommand.RunAsync(
            r.GetValue(configDir) is { } dir ? Path.GetFullPath(dir) : UpCommand.RegionOne(DataDir(r, data)).Root, ct));
        return command;
    }

    static Command Doctor()
    {
        var configDirs = new Option<string[]>("--config-dir")
        {
            Description = "A node's directory to check; several check several nodes (default: up's three nodes)",
            Arity = ArgumentArity.OneOrMore,
        };
        var data = Data();
        var json = new Option<bool>("--json") { Description = "Print the problems as a JSON array of {check, host, file, section, key, problem, fix}" };
        var command = new Command("doctor", "Check a running cloud from its catalog and its nodes' files: one line per problem, with where and the fix (exit 1 when one is found).")
        {
            configDirs, data, json,
        };
        command.SetAction((r, ct) => DoctorCommand.RunAsync(r.GetValue(configDirs) is { Length: > 0 } dirs
            ? [.. dirs.Select(Path.GetFullPath)]
            : [.. UpCommand.Nodes(DataDir(r, data)).Select(n => n.Root)], r.GetValue(json), ct));
        return command;
    }

    static Command Up()
    {
        var data = Data();
        var one = new Option<string>("--region-one-address") { Description = "RegionOne's controller", DefaultValueFactory = _ => "127.16.2.72" };
        var two = new Option<string>("--region-two-address") { Description = "RegionTwo's controller", DefaultValueFactory = _ => "127.16.3.72" };
        var compute = new Option<string>("--region-two-compute-address") { Description = "RegionTwo's compute node", DefaultValueFactory = _ => "127.16.3.73" };
        var password = new Option<string>("--password") { Description = "The admin's and the services' password (default: the one of the existing cloud, else a new one)" };
        var dashboardPort = DashboardPort();
        var up = new Command("up", "Start the whole two-region cloud on loopback (a second up resumes it).") { data, one, two, compute, password, dashboardPort };
        up.SetAction((r, _) => UpCommand.RunAsync(DataDir(r, data),
            r.GetValue(one)!, r.GetValue(two)!, r.GetValue(compute)!, r.GetValue(password), r.GetValue(dashboardPort)));
        return up;
    }

    static Command NodeInit()
    {
        var configDir = new Option<string>("--config-dir") { Description = "The node's directory (the seed's files go under it)", Required = true };
        var region = new Option<string>("--region") { Description = "The node's region", Required = true };
        var address = new Option<string>("--address") { Description = "The node's IP address: its services bind to it", Required = true };
        var password = new Option<string>("--password") { Description = "The admin's and the services' password", Required = true };
        var identityUrl = new Option<string>("--identity-url") { Description = "The shared identity (RegionOne's) to register in, instead of one of the node's own" };
        var role = new Option<string>("--role") { Description = "Which services the node runs", DefaultValueFactory = _ => NodeRoles.All };
        role.AcceptOnlyFromAmong(NodeRoles.All, NodeRoles.Controller, NodeRoles.Compute);
        var host = new Option<string>("--host") { Description = "The node's host name in service lists" };
        var controller = new Option<string>("--controller") { Description = "A compute node's controller address" };
        var transportUrl = new Option<string>("--transport-url") { Description = "The region's message bus (rabbit://...)" };
        var dashboardPort = DashboardPort();
        var dashboardUrl = new Option<string>("--dashboard-url") { Description = "The dashboard's public URL" };
        var init = new Command("init", "Write a node's configuration (the seed's files) and initialise it.")
        {
            configDir, region, address, password, identityUrl, role, host, controller, transportUrl, dashboardPort, dashboardUrl,
        };
        init.SetAction((r, _) => NodeCommand.InitAsync(Path.GetFullPath(r.GetValue(configDir)!),
            new NodeSpec(r.GetValue(region)!, r.GetValue(address)!, r.GetValue(password)!)
            {
                IdentityUrl = r.GetValue(identityUrl),
                Role = r.GetValue(role)!,
                Host = r.GetValue(host),
                Controller = r.GetValue(controller),
                TransportUrl = r.GetValue(transportUrl),
                DashboardPort = r.GetValue(dashboardPort),
                DashboardUrl = r.GetValue(dashboardUrl),
            }));
        return init;
    }

    static Command NodeStart()
    {
        var configDirs = new Option<string[]>("--config-dir")
        {
            Description = "A node's directory; several run several nodes in one process (as up does)",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var upgrade = new Option<bool>("--upgrade-databases")
        {
            Description = "Bring databases an older Stratus made to this release's schema (the db sync verbs' work); without it such a database is refused",
        };
        var start = new Command("start", "Run every service configured in the node's directory (SIGTERM stops, SIGHUP reloads).") { configDirs, upgrade };
        start.SetAction((r, _) => NodeCommand.RunAsync([.. r.GetValue(configDirs)!.Select(Path.GetFullPath)], r.GetValue(upgrade)));
        return start;
    }

    static Command NodeInstallUnits()
    {
        var configDir = new Option<string>("--config-dir") { Description = "The node's directory (made by node init)", Required = true };
        var output = new Option<string>("--output") { Description = "Where the unit goes", DefaultValueFactory = _ => "/etc/systemd/system" };
        var command = new Command("install-units", "Write the systemd unit that runs the node: restart on failure, reload with SIGHUP, logs in journald.") { configDir, output };
        command.SetAction(r => NodeCommand.InstallUnits(Path.GetFullPath(r.GetValue(configDir)!), r.GetValue(output)!));
        return command;
    }

    static Command RegionJoin()
    {
        var configDir = new Option<string>("--config-dir") { Description = "The node (made by node init) to join; each node of the region joins in turn", Required = true };
        var identity = new Option<string>("--identity") { Description = "The shared identity: RegionOne's http://HOST:5000", Required = true };
        var region = new Option<string>("--region") { Description = "The region the node becomes (RegionTwo)", Required = true };
        var password = new Option<string>("--admin-password") { Description = "The shared identity's admin password (default: the node's admin-openrc's)" };
        var shared = new Option<bool>("--shared-service-users") { Description = "Use the seed's single glance, nova... users for every region instead of glance-REGION..." };
        var dashboardUrl = new Option<string>("--dashboard-url") { Description = "The shared dashboard the node's web root redirects to (default: http://IDENTITY-HOST/dashboard)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print each file's change as a unified diff and the identity calls; change nothing" };
        var join = new Command("join", "Make a node's cloud a region of the shared identity's cloud: catalog, users and the node's files.")
        {
            configDir, identity, region, password, shared, dashboardUrl, dryRun,
        };
        join.SetAction((r, ct) => RegionCommand.JoinAsync(Path.GetFullPath(r.GetValue(configDir)!), r.GetValue(identity)!, r.GetValue(region)!,
            r.GetValue(password), r.GetValue(shared), r.GetValue(dashboardUrl), r.GetValue(dryRun), ct));
        return join;
    }

    static Command RegionLeave()
    {
        var configDir = new Option<string>("--config-dir") { Description = "A node that joined a region with region join", Required = true };
        var password = new Option<string>("--admin-password") { Description = "The shared identity's admin password (default: the node's admin-openrc's)" };
        var leave = new Command("leave", "Undo region join: the region out of the shared catalog, the node's files and its own identity back.") { configDir, password };
        leave.SetAction((r, ct) => RegionCommand.LeaveAsync(Path.GetFullPath(r.GetValue(configDir)!), r.GetValue(password), ct));
        return leave;
    }

    /// <summary>
    /// A service's manage tool with its schema verbs (<c>glance-manage db_sync</c>, <c>nova-manage api_db sync</c>...): the
    /// config from <c>--config-file</c> (repeatable, as neutron-db-manage takes it) or <c>--config-dir</c> (the service's
    /// directory, or a node's; default /etc/SERVICE).
    /// </summary>
    static Command Manage(string tool, string configFile, Func<IServiceModule> module, string service, params string[][] syncVerbs)
    {
        var command = new Command(tool, $"{tool}: the {service} service's database schema.");
        var configDir = new Option<string>("--config-dir") { Description = $"A {service} directory, or a node's (default /etc/{service})", Recursive = true };
        var configFiles = new Option<string[]>("--config-file") { Description = $"{Path.GetFileName(configFile)} itself", Recursive = true };
        command.Options.Add(configDir);
        command.Options.Add(configFiles);
        foreach (var verbs in syncVerbs)
        {
            var parent = command;
            foreach (var verb in verbs[..^1])
            {
                var existing = parent.Subcommands.FirstOrDefault(c => c.Name == verb);
                if (existing is null) parent.Subcommands.Add(existing = new Command(verb, $"{tool} {verb}"));
                parent = existing;
            }
            var sync = new Command(verbs[^1], $"Create or bring up to date the {service} service's schema.");
            sync.SetAction(async (r, ct) =>
            {
                var made = module();
                var file = FindConfig(made, r.GetValue(configFiles) ?? [], r.GetValue(configDir) ?? "/etc/" + service);
                await made.SyncDatabaseAsync(IniFile.Load(file), ct);
                return 0;
            });
            parent.Subcommands.Add(sync);
        }
        return command;
    }

    /// <summary>The module's file among those given, else in the directory (a service's, e.g. /etc/glance, or a node's).</summary>
    static string FindConfig(IServiceModule module, string[] files, string dir)
    {
        var name = Path.GetFileName(module.ConfigFile);
        if (files.Length > 0) return files.FirstOrDefault(f => Path.GetFileName(f) == name) ?? files[0];
        foreach (var candidate in new[] { Path.Combine(dir, name), Path.Combine(dir, module.ConfigFile) })
            if (File.Exists(candidate)) return candidate;
        throw new UsageException($"no {name} in {dir} (nor {module.ConfigFile} under it): give --config-dir or --config-file");
    }

    static Command KeystoneManage()
    {
        var command = new Command("keystone-manage", "Keystone's keystone-manage, with its verbs and flags.");
        var configDir = new Option<string>("--config-dir") { Description = "A keystone directory, or a node's (default /etc/keystone)", Recursive = true };
        var configFile = new Option<string>("--config-file") { Description = "keystone.conf itself", Recursive = true };
        command.Options.Add(configDir);
        command.Options.Add(configFile);
        string Config(ParseResult r) =>
            FindConfig(ServiceModules.Identity, r.GetValue(configFile) is { } file ? [file] : [], r.GetValue(configDir) ?? "/etc/keystone");

        var dbSync = new Command("db_sync", "Create the identity's schema.");
        foreach (var phase in new[] { "--check", "--expand", "--migrate", "--contract" })
            dbSync.Options.Add(new Option<bool>(phase) { Description = "Accepted as Keystone does; the whole sync runs" });
        dbSync.SetAction((r, _) => KeystoneManageCommand.DbSyncAsync(Config(r)));
        command.Subcommands.Add(dbSync);

        foreach (var (verb, credentials, rotate) in new[] { ("fernet_setup", false, false), ("credential_setup", true, false), ("fernet_rotate", false, true), ("credential_rotate", true, true) })
        {
            var user = new Option<string>("--keystone-user") { Description = "Accepted as Keystone does (the keys belong to the user running this)" };
            var group = new Option<string>("--keystone-group") { Description = "Accepted as Keystone does" };
            var keys = new Command(verb, $"{(rotate ? "Rotate" : "Set up")} the {(credentials ? "credential" : "fernet")} keys.") { user, group };
            keys.SetAction(r => KeystoneManageCommand.Keys(Config(r), credentials, rotate));
            command.Subcommands.Add(keys);
        }

        var bootstrap = new Command("bootstrap", "The admin user, project and role, the identity service and its endpoints.");
        Option<string> Bootstrap(string name, string description, string? fallback = null)
        {
            var option = new Option<string>("--bootstrap-" + name) { Description = description };
            if (fallback is not null) option.DefaultValueFactory = _ => fallback;
            bootstrap.Options.Add(option);
            return option;
        }
        var password = Bootstrap("password", "The admin's password (or OS_BOOTSTRAP_PASSWORD)");
        var username = Bootstrap("username", "The admin's name", "admin");
        var project = Bootstrap("project-name", "The admin's project", "admin");
        var roleName = Bootstrap("role-name", "The admin role", "admin");
        var service = Bootstrap("service-name", "The identity service's name", "keystone");
        var regionId = Bootstrap("region-id", "The region of the endpoints");
        var adminUrl = Bootstrap("admin-url", "The identity's admin endpoint");
        var internalUrl = Bootstrap("internal-url", "The identity's internal endpoint");
        var publicUrl = Bootstrap("public-url", "The identity's public endpoint");
        bootstrap.SetAction((r, _) => KeystoneManageCommand.BootstrapAsync(Config(r), new Identity.BootstrapArgs
        {
            Password = r.GetValue(password) ?? Environment.GetEnvironmentVariable("OS_BOOTSTRAP_PASSWORD")
                ?? throw new UsageException("--bootstrap-password (or OS_BOOTSTRAP_PASSWORD) is required"),
            Username = r.GetValue(username)!,
            ProjectName = r.GetValue(project)!,
            RoleName = r.GetValue(roleName)!,
            ServiceName = r.GetValue(service)!,
            RegionId = r.GetValue(regionId),
            AdminUrl = r.GetValue(adminUrl),
            InternalUrl = r.GetValue(internalUrl),
            PublicUrl = r.GetValue(publicUrl),
        }));
        command.Subcommands.Add(bootstrap);
        return command;
    }

    static Command TestImage()
    {
        var output = new Option<string>("--output") { Description = "The qcow2 file to write", Required = true };
        var cache = new Option<string>("--cache-dir") { Description = "Where the Debian packages it is made from are kept" };
        var command = new Command("test-image", "Build a small bootable qcow2 from Debian packages (a CirrOS for tests).") { output, cache };
        command.SetAction((r, _) => TestImageCommand.RunAsync(r.GetValue(output)!, r.GetValue(cache)));
        return command;
    }
}

sealed class UsageException(string message) : Exception(message);
