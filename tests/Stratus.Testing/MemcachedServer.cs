using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Stratus.Testing;

/// <summary>Debian's memcached started by hand on loopback and a free port, killed on dispose.</summary>
public sealed class MemcachedServer : IAsyncDisposable
{
    readonly Process _process;

    public int Port { get; }

    /// <summary><c>memcached_servers</c> as keystonemiddleware takes it.</summary>
    public string Address => $"127.0.0.1:{Port}";

    MemcachedServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public static async Task<MemcachedServer> StartAsync()
    {
        var port = FreePort.Next();
        var psi = new ProcessStartInfo("memcached") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-l", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "0", "-m", "64", "-u", "root" })
            psi.ArgumentList.Add(a);
        var server = new MemcachedServer(Process.Start(psi)!, port);
        for (var i = 0; ; i++)
        {
            try
            {
                await server.StatsAsync();
                return server;
            }
            catch (SocketException) when (i < 100 && !server._process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>memcached's <c>stats</c>: <c>cmd_set</c>, <c>get_hits</c>, <c>curr_items</c>...</summary>
    public async Task<Dictionary<string, long>> StatsAsync()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        await using var stream = client.GetStream();
        await stream.WriteAsync("stats\r\n"u8.ToArray());
        using var reader = new StreamReader(stream);
        var stats = new Dictionary<string, long>();
        for (var line = await reader.ReadLineAsync(); line is not null and not "END"; line = await reader.ReadLineAsync())
            if (line.Split(' ') is ["STAT", var name, var value] && long.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var n))
                stats[name] = n;
        return stats;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
