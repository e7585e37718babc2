using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Stratus.Testing;

/// <summary>
/// The identity server on a real PostgreSQL: Debian's server started by hand in a temporary data
/// directory (initdb + pg_ctl as the postgres user, trust auth, loopback only), dropped afterwards.
/// </summary>
public sealed class PostgresIdentityServer : IdentityServer
{
    string? _data;

    protected override async Task<string?> CreateDatabaseAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")).FirstOrDefault()
            ?? throw new InvalidOperationException("PostgreSQL is not installed (test.sh installs it)");
        _data = Path.Combine(Path.GetTempPath(), "stratus-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_data);
        var port = FreePort();
        await AsPostgresAsync("chown", "postgres", _data);
        await AsPostgresAsync("runuser", "-u", "postgres", "--", Path.Combine(bin, "initdb"), "-D", _data, "-U", "postgres", "--auth=trust", "-E", "UTF8");
        await AsPostgresAsync("runuser", "-u", "postgres", "--", Path.Combine(bin, "pg_ctl"), "-D", _data, "-w", "-l", Path.Combine(_data, "log"),
            "-o", $"-p {port} -k {_data} -c listen_addresses=127.0.0.1", "start");
        await AsPostgresAsync("runuser", "-u", "postgres", "--", Path.Combine(bin, "createdb"), "-h", "127.0.0.1", "-p", port.ToString(), "keystone");
        return $"postgresql://postgres@127.0.0.1:{port}/keystone";
    }

    protected override async Task DropDatabaseAsync()
    {
        if (_data is null) return;
        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")).First();
        await AsPostgresAsync("runuser", "-u", "postgres", "--", Path.Combine(bin, "pg_ctl"), "-D", _data, "-m", "fast", "stop");
        Directory.Delete(_data, recursive: true);
    }

    static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    static async Task AsPostgresAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {await err}");
    }
}
