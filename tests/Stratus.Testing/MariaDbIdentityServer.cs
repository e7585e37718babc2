using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Stratus.Testing;

/// <summary>
/// The identity server on a real MariaDB: Debian's server started by hand in a temporary data
/// directory (loopback only, a free port), reached through a <c>mysql+pymysql://</c> URL as the seed
/// writes them, and stopped afterwards.
/// </summary>
public sealed class MariaDbIdentityServer : IdentityServer
{
    string? _data;
    Process? _server;

    protected override async Task<string?> CreateDatabaseAsync()
    {
        _data = Path.Combine(Path.GetTempPath(), "stratus-mariadb-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_data);
        var port = FreePort();
        var socket = Path.Combine(_data, "mysqld.sock");
        await RunAsync("mariadb-install-db", "--no-defaults", "--user=root", $"--datadir={_data}/db",
            "--auth-root-authentication-method=normal", "--skip-test-db");
        var psi = new ProcessStartInfo("mariadbd") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--no-defaults", "--user=root", $"--datadir={_data}/db", $"--socket={socket}", $"--port={port}",
                     "--bind-address=127.0.0.1", $"--pid-file={_data}/mysqld.pid", "--skip-log-bin" })
            psi.ArgumentList.Add(a);
        _server = Process.Start(psi)!;
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        for (var i = 0; ; i++)
        {
            try
            {
                await RunAsync("mariadb", "--no-defaults", $"--socket={socket}", "-uroot", "-e",
                    "CREATE DATABASE keystone; CREATE USER 'keystone'@'127.0.0.1' IDENTIFIED BY 'ks'; GRANT ALL ON keystone.* TO 'keystone'@'127.0.0.1';");
                break;
            }
            catch (InvalidOperationException) when (i < 100)
            {
                await Task.Delay(100);
            }
        }
        return $"mysql+pymysql://keystone:ks@127.0.0.1:{port}/keystone";
    }

    protected override async Task DropDatabaseAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill();
            await _server.WaitForExitAsync();
        }
        _server?.Dispose();
        if (_data is not null) Directory.Delete(_data, recursive: true);
    }

    static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    static async Task RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file}: {await err}");
    }
}
