using System.Security.Cryptography;
using Spectre.Console;
using Stratus.Core.Config;
using Stratus.Core.Modules;
using Stratus.Dashboard;
using Stratus.Identity;
using Stratus.Network;

namespace Stratus.Cli;

/// <summary>
/// <c>up</c>: the seed's whole two-region cloud on one machine. RegionOne's controller (identity for
/// both regions) and RegionTwo's controller are two nodes, at the seed's addresses mapped into
/// 127.0.0.0/8, initialised on first use and then started together.
/// </summary>
static class UpCommand
{
    public static async Task<int> RunAsync(string data, string oneAddress, string twoAddress, string computeAddress, string? password, int dashboardPort)
    {
        var nodes = Nodes(data);
        var (regionOne, regionTwo, regionTwoCompute) = (nodes[0], nodes[1], nodes[2]);
        var existingPassword = regionOne.ReadAdminPassword();
        password ??= existingPassword ?? NewPassword();
        // A resumed cloud skips the initialisation (its password checks alone take seconds) unless a service was added
        // since (an upgrade) or the password changes.
        var marker = Path.Combine(data, ".initialised");
        var modules = string.Join(',', ServiceModules.All.Select(m => m.Name));
        if (password != existingPassword || !File.Exists(marker) || await File.ReadAllTextAsync(marker) != modules)
        {
            await WithProgressAsync(step => InitAsync(step, regionOne, regionTwo, regionTwoCompute, oneAddress, twoAddress, computeAddress, password, dashboardPort));
            await File.WriteAllTextAsync(marker, modules);
        }
        var identityUrl = IdentityModule.Url(ServiceModules.Identity.ReadOptions(regionOne.Root));

        // The seed's two credential files (section 4.2) at the top of the data directory.
        var openrcOne = Path.Combine(data, "admin-openrc");
        var openrcTwo = Path.Combine(data, "admin-openrc-r2");
        AtomicFile.Write(openrcOne, await File.ReadAllTextAsync(regionOne.AdminOpenrc), AtomicFile.OwnerOnly);
        AtomicFile.Write(openrcTwo, await File.ReadAllTextAsync(regionTwo.AdminOpenrc), AtomicFile.OwnerOnly);

        Console.WriteLine($"""
            Stratus: two regions sharing the identity at {identityUrl}
              RegionOne controller {oneAddress}: source {openrcOne}
              RegionTwo controller {twoAddress}: source {openrcTwo}
              RegionTwo compute node {computeAddress}
              Dashboard (both regions): {DashboardModule.Url(oneAddress, dashboardPort)}
            """);
        // A cloud on a laptop follows its Stratus: the next up upgrades what an older one made.
        return await NodeCommand.RunAsync([regionOne.Root, regionTwo.Root, regionTwoCompute.Root], upgradeDatabases: true);
    }

    /// <summary>The three nodes' files, databases and catalog, as node init makes them (idempotent).</summary>
    static async Task InitAsync(Action<string> step, NodeLayout regionOne, NodeLayout regionTwo, NodeLayout regionTwoCompute,
        string oneAddress, string twoAddress, string computeAddress, string password, int dashboardPort)
    {
        step($"RegionOne's controller ({oneAddress}): files, databases, identity and catalog");
        await NodeCommand.InitAsync(regionOne, new NodeSpec("RegionOne", oneAddress, password) { Host = "controller", DashboardPort = dashboardPort });
        var identity = ServiceModules.Identity.ReadOptions(regionOne.Root);
        var identityUrl = IdentityModule.Url(identity);
        // Seed section 4.1: RegionOne's keystone-manage bootstrap creates RegionTwo and its identity endpoints.
        step($"RegionTwo's controller ({twoAddress}): files, databases, catalog");
        await IdentityModule.BootstrapRegionAsync(identity, "RegionTwo", password);
        // RegionTwo's services go into the shared catalog as the seed's operator adds them on RegionOne (4.1).
        await NodeCommand.InitAsync(regionTwo, new NodeSpec("RegionTwo", twoAddress, password)
        {
            IdentityUrl = identityUrl,
            Role = NodeRoles.Controller,
            Host = "controller",
            DashboardPort = dashboardPort,
            // Both regions' bridges share this machine's kernel, where a vxlan interface is named by its VNI: RegionTwo counts on from RegionOne's.
            PostConfig = new Dictionary<string, string> { [NetworkModule.Ml2Conf] = "[ml2_type_vxlan]\nvni_ranges = 1001:2000\n" },
        }, IdentityModule.LocalRegistry(identity));
        // The seed's RegionTwo compute node (172.16.3.73): nova-compute only, on RegionTwo's bus.
        step($"RegionTwo's compute node ({computeAddress}): files");
        await NodeCommand.InitAsync(regionTwoCompute, new NodeSpec("RegionTwo", computeAddress, password)
        {
            IdentityUrl = identityUrl,
            Role = NodeRoles.Compute,
            Host = "compute1",
            Controller = twoAddress,
        });
    }

    /// <summary>The steps of a long task: a spinner with the current one on a terminal, a line each elsewhere.</summary>
    static async Task WithProgressAsync(Func<Action<string>, Task> task)
    {
        if (Console.IsOutputRedirected)
        {
            await task(s => Console.WriteLine("initialising " + s));
            return;
        }
        await AnsiConsole.Status().StartAsync("initialising", async context =>
            await task(s =>
            {
                AnsiConsole.MarkupLine($"[grey]initialising {Markup.Escape(s)}[/]");
                context.Status(Markup.Escape("initialising " + s));
            }));
    }

    /// <summary>RegionOne's controller in up's data directory: the node whose files <c>openrc</c> reads by default.</summary>
    public static NodeLayout RegionOne(string data) => new(Path.Combine(data, "regionone"));

    /// <summary>up's nodes in its data directory: RegionOne's controller, RegionTwo's controller and RegionTwo's compute node.</summary>
    public static NodeLayout[] Nodes(string data) => [RegionOne(data), new(Path.Combine(data, "regiontwo")), new(Path.Combine(data, "regiontwo-compute1"))];

    /// <summary>Made readable by its owner only from the start: it holds the admin's password.</summary>
    static string NewPassword() => Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
}
