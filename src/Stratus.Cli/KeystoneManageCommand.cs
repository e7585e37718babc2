using Stratus.Core.Config;
using Stratus.Identity;

namespace Stratus.Cli;

/// <summary><c>keystone-manage</c> with Keystone's own verbs and flags.</summary>
static class KeystoneManageCommand
{
    static readonly string[] Verbs = ["bootstrap", "db_sync", "fernet_setup", "fernet_rotate", "credential_setup", "credential_rotate"];

    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new CliArgs(argv, "check", "expand", "migrate", "contract");
        var verb = args.Positional.FirstOrDefault(Verbs.Contains)
            ?? throw new UsageException($"keystone-manage: give one of {string.Join(", ", Verbs)}");
        var options = ServiceModules.Identity.ReadOptions(IniFile.Load(FindConfig(args)));
        switch (verb)
        {
            case "db_sync":
                args.Flag("check"); args.Flag("expand"); args.Flag("migrate"); args.Flag("contract");
                args.EnsureAllUsed();
                await ServiceModules.Identity.SyncDatabaseAsync(options);
                break;
            case "fernet_setup" or "credential_setup":
                args.Get("keystone-user"); args.Get("keystone-group");
                args.EnsureAllUsed();
                IdentityModule.SetupKeys(options, credentialKeys: verb.StartsWith("credential", StringComparison.Ordinal));
                break;
            case "fernet_rotate" or "credential_rotate":
                args.Get("keystone-user"); args.Get("keystone-group");
                args.EnsureAllUsed();
                IdentityModule.RotateKeys(options, credentialKeys: verb.StartsWith("credential", StringComparison.Ordinal));
                break;
            case "bootstrap":
                var bootstrap = new BootstrapArgs
                {
                    Password = args.Get("bootstrap-password") ?? Environment.GetEnvironmentVariable("OS_BOOTSTRAP_PASSWORD")
                        ?? throw new UsageException("--bootstrap-password (or OS_BOOTSTRAP_PASSWORD) is required"),
                    Username = args.Get("bootstrap-username") ?? "admin",
                    ProjectName = args.Get("bootstrap-project-name") ?? "admin",
                    RoleName = args.Get("bootstrap-role-name") ?? "admin",
                    ServiceName = args.Get("bootstrap-service-name") ?? "keystone",
                    RegionId = args.Get("bootstrap-region-id"),
                    AdminUrl = args.Get("bootstrap-admin-url"),
                    InternalUrl = args.Get("bootstrap-internal-url"),
                    PublicUrl = args.Get("bootstrap-public-url"),
                };
                args.EnsureAllUsed();
                foreach (var line in await IdentityModule.BootstrapAsync(options, bootstrap))
                    Console.WriteLine(line);
                break;
        }
        return 0;
    }

    /// <summary>keystone.conf from --config-file, or in --config-dir (a keystone directory or a node's), or /etc/keystone.</summary>
    static string FindConfig(CliArgs args)
    {
        if (args.Get("config-file") is { } file) return file;
        var dir = args.Get("config-dir") ?? "/etc/keystone";
        foreach (var candidate in new[] { Path.Combine(dir, "keystone.conf"), Path.Combine(dir, "keystone", "keystone.conf") })
            if (File.Exists(candidate)) return candidate;
        throw new UsageException($"no keystone.conf in {dir} (nor in {dir}/keystone)");
    }
}
