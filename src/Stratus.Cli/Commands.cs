using Stratus.Core.Config;

namespace Stratus.Cli;

/// <summary>The verbs of <c>./stratus</c>.</summary>
static class Commands
{
    const string Usage = """
        usage: stratus <command> [options]

          up [--data DIR] [--region-one-address IP] [--region-two-address IP] [--password P] [--dashboard-port PORT]
                                     start the whole two-region cloud on loopback
          node init --config-dir DIR --region R --address IP --password P [--identity-url URL]
                    [--role all|controller|compute] [--host NAME] [--controller IP] [--transport-url rabbit://...]
                    [--dashboard-port PORT] [--dashboard-url URL]
                                     write a node's configuration (the seed's files) and initialise it
          node start --config-dir DIR [--config-dir DIR2 ...]
                                     run every service configured in DIR (SIGTERM stops, SIGHUP reloads);
                                     several directories run several nodes in one process
          keystone-manage [--config-dir DIR | --config-file FILE] <bootstrap|db_sync|fernet_setup|fernet_rotate> ...
                                     the same verbs and flags as Keystone's keystone-manage
          test-image --output FILE [--cache-dir DIR]
                                     build a small bootable qcow2 from Debian packages (a CirrOS for tests)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            return args switch
            {
                ["up", .. var rest] => await UpCommand.RunAsync(new CliArgs(rest)),
                ["node", "init", .. var rest] => await NodeCommand.InitAsync(new CliArgs(rest)),
                ["node", "start", .. var rest] => await NodeCommand.StartAsync(new CliArgs(rest)),
                ["keystone-manage", .. var rest] => await KeystoneManageCommand.RunAsync(rest),
                ["test-image", .. var rest] => await TestImageCommand.RunAsync(new CliArgs(rest)),
                [] or ["help"] or ["--help"] or ["-h"] => Help(0),
                _ => Help(2, $"unknown command '{string.Join(' ', args)}'"),
            };
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
    }

    static int Help(int code, string? error = null)
    {
        if (error is not null) Console.Error.WriteLine($"stratus: {error}");
        (code == 0 ? Console.Out : Console.Error).WriteLine(Usage);
        return code;
    }
}
