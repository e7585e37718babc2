using System.Security.Cryptography;
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
        var regionOne = new NodeLayout(Path.Combine(data, "regionone"));
        var regionTwo = new NodeLayout(Path.Combine(data, "regiontwo"));
        var regionTwoCompute = new NodeLayout(Path.Combine(data, "regiontwo-compute1"));
        password ??= regionOne.ReadAdminPassword() ?? NewPassword();

        await NodeCommand.InitAsync(regionOne, new NodeSpec("RegionOne", oneAddress, password) { Host = "controller", DashboardPort = dashboardPort });
        var identity = ServiceModules.Identity.ReadOptions(regionOne.Root);
        var identityUrl = IdentityModule.Url(identity);
        // Seed section 4.1: RegionOne's keystone-manage bootstrap creates RegionTwo and its identity endpoints.
        await IdentityModule.BootstrapRegionAsync(identity, "RegionTwo", password);
        // RegionTwo's services go into the shared catalog as the seed's operator adds them on RegionOne (4.1).
        await NodeCommand.InitAsync(regionTwo, new NodeSpec("RegionTwo", twoAddress, password)
        {
            IdentityUrl = identityUrl, Role = NodeRoles.Controller, Host = "controller", DashboardPort = dashboardPort,
            // Both regions' bridges share this machine's kernel, where a vxlan interface is named by its VNI: RegionTwo counts on from RegionOne's.
            PostConfig = new Dictionary<string, string> { [NetworkModule.Ml2Conf] = "[ml2_type_vxlan]\nvni_ranges = 1001:2000\n" },
        }, IdentityModule.LocalRegistry(identity));
        // The seed's RegionTwo compute node (172.16.3.73): nova-compute only, on RegionTwo's bus.
        await NodeCommand.InitAsync(regionTwoCompute, new NodeSpec("RegionTwo", computeAddress, password)
        {
            IdentityUrl = identityUrl, Role = NodeRoles.Compute, Host = "compute1", Controller = twoAddress,
        });

        Console.WriteLine($"""
            Stratus: two regions sharing the identity at {identityUrl}
              RegionOne controller {oneAddress}: source {regionOne.AdminOpenrc}
              RegionTwo controller {twoAddress}: source {regionTwo.AdminOpenrc}
              RegionTwo compute node {computeAddress}
              Dashboard (both regions): {DashboardModule.Url(oneAddress, dashboardPort)}
            """);
        return await NodeCommand.RunAsync([regionOne.Root, regionTwo.Root, regionTwoCompute.Root]);
    }

    static string NewPassword() => Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
}
