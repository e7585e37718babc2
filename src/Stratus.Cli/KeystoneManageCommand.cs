using Stratus.Core.Config;
using Stratus.Identity;

namespace Stratus.Cli;

/// <summary><c>keystone-manage</c> with Keystone's own verbs and flags (parsed in <see cref="Commands"/>).</summary>
static class KeystoneManageCommand
{
    static IdentityOptions Options(string config) => ServiceModules.Identity.ReadOptions(IniFile.Load(config));

    public static async Task<int> DbSyncAsync(string config)
    {
        await ServiceModules.Identity.SyncDatabaseAsync(Options(config));
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

    /// <summary>keystone.conf from --config-file, or in --config-dir (a keystone directory or a node's), or /etc/keystone.</summary>
    public static string FindConfig(string? file, string? dir)
    {
        if (file is not null) return file;
        dir ??= "/etc/keystone";
        foreach (var candidate in new[] { Path.Combine(dir, "keystone.conf"), Path.Combine(dir, "keystone", "keystone.conf") })
            if (File.Exists(candidate)) return candidate;
        throw new UsageException($"no keystone.conf in {dir} (nor in {dir}/keystone)");
    }
}
