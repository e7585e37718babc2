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
    static readonly Lazy<IServiceModule> IdentityOnce = new(() => new IdentityModule());

    /// <summary>The identity's module, made on first use as every module here (a network node does not load the identity's assembly).</summary>
    public static IdentityModule Identity => (IdentityModule)IdentityOnce.Value;

    /// <summary>
    /// Each module with the file that configures it on a node, made on first use: a node's process loads the
    /// assemblies of the services it runs only (each other one costs 1-2 MiB resident; the identity alone: 7 MiB).
    /// </summary>
    static readonly (string ConfigFile, Lazy<IServiceModule> Module)[] List =
    [
        (IdentityModule.KeystoneConf, IdentityOnce),
        (PlacementModule.PlacementConf, new(() => new PlacementModule())),
        (ComputeModule.NovaConf, new(() => new ComputeModule())),
        (ImageModule.GlanceApiConf, new(() => new ImageModule())),
        (NetworkModule.NeutronConf, new(() => new NetworkModule())),
        (BlockStorageModule.CinderConf, new(() => new BlockStorageModule())),
        (DashboardModule.LocalSettings, new(() => new DashboardModule())),
    ];

    public static IReadOnlyList<IServiceModule> All => [.. List.Select(e => e.Module.Value)];

    /// <summary>The modules that one of the given node directories configures, in the list's order.</summary>
    public static IReadOnlyList<IServiceModule> ConfiguredIn(IEnumerable<string> configDirs) =>
        [.. List.Where(e => configDirs.Any(d => File.Exists(Path.Combine(d, e.ConfigFile)))).Select(e => e.Module.Value)];

    /// <summary>The module of the list of the given type.</summary>
    public static T Of<T>() where T : IServiceModule => All.OfType<T>().Single();
}
