using Stratus.BlockStorage;
using Stratus.Compute;
using Stratus.Core.Modules;
using Stratus.Dashboard;
using Stratus.Identity;
using Stratus.Image;
using Stratus.Network;
using Stratus.Placement;

namespace Stratus.Cli;

/// <summary>
/// Every service a node can run, in the order nodes initialise and start them: the identity first
/// (the others register in it and log in to it). A new service is one module and one line here.
/// </summary>
public static class ServiceModules
{
    public static readonly IdentityModule Identity = new();

    public static IReadOnlyList<IServiceModule> All { get; } =
    [
        Identity,
        new PlacementModule(),
        new ComputeModule(),
        new ImageModule(),
        new NetworkModule(),
        new BlockStorageModule(),
        new DashboardModule(),
    ];

    /// <summary>The module of the list of the given type.</summary>
    public static T Of<T>() where T : IServiceModule => All.OfType<T>().Single();
}
