using Stratus.Core.Config;
using Stratus.Identity;

namespace Stratus.Cli;

/// <summary><c>keystone-manage</c> with Keystone's own verbs and flags (parsed in <see cref="Commands"/>).</summary>
static class KeystoneManageCommand
{
    static IdentityOptions Options(string config) => ServiceModules.Identity.ReadOptions(IniFile.Load(config));

    public static async Task<int> DbSyncAsync(string config)
    {
        await ServiceModules.Identity.SyncDatabaseAsync(Options(config), upgrade: true);
        return 0;
    }

    public static int Keys(string config, bool credentials, bool rotate)
    {
        if (rotate) IdentityModule.RotateKeys(Options(config), credentialKeys: credentials);
        else IdentityModule.SetupKeys(Options(config), credentialKeys: credentials);
        return 0;
    }

    public static async Task<int> BootstrapAsync(string config, BootstrapArgs bootstrap)
    {
        foreach (var line in await IdentityModule.BootstrapAsync(Options(config), bootstrap))
            Console.WriteLine(line);
        return 0;
    }
}
