using System.Diagnostics;
using Stratus.Core.Processes;
using Stratus.Network.DataPlane;

namespace Stratus.Network.Tests;

/// <summary>
/// The namespaces a test makes to stand for guests and for the world outside a router, the busybox servers it
/// runs in them, and their removal even when the test fails. A server answers <c>/cgi-bin/peer</c> with the
/// address the request came from, so a test sees what source address NAT gave a connection.
/// </summary>
sealed class TestNamespaces : IAsyncDisposable
{
    readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    readonly string _www = Path.Combine(Path.GetTempPath(), "stratus-www-" + Guid.NewGuid().ToString("N")[..8]);
    readonly List<HostNetwork> _namespaces = [];
    readonly List<string> _hostLinks = [];
    readonly List<Process> _servers = [];

    /// <summary>A new namespace named for its role (<c>stratus-ROLE-SUFFIX</c>), deleted on dispose.</summary>
    public async Task<HostNetwork> NamespaceAsync(string role)
    {
        var ns = new HostNetwork($"stratus-{role}-{_suffix}");
        _namespaces.Add(ns);
        await ns.EnsureNamespaceAsync(default);
        return ns;
    }

    /// <summary>
    /// A NIC of <paramref name="inside"/>: a veth pair whose end <paramref name="hostEnd"/> is in <paramref name="host"/> and whose
    /// other end, eth0, has the MAC, the address and a default route through <paramref name="gateway"/>.
    /// </summary>
    public async Task WireAsync(HostNetwork host, string hostEnd, HostNetwork inside, string mac, string cidr, string? gateway, int mtu = 1500)
    {
        if (host.Namespace is null) _hostLinks.Add(hostEnd);
        var mtuText = mtu.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await host.IpAsync(default, "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", inside.Namespace!);
        await host.IpAsync(default, "link", "set", hostEnd, "mtu", mtuText, "up");
        await inside.IpAsync(default, "link", "set", "eth0", "address", mac, "mtu", mtuText, "up");
        await inside.IpAsync(default, "addr", "add", cidr, "dev", "eth0");
        if (gateway is not null) await inside.IpAsync(default, "route", "add", "default", "via", gateway);
    }

    /// <summary>busybox httpd in the namespace on <paramref name="port"/>, its CGI telling the caller's address.</summary>
    public async Task ServeAsync(HostNetwork ns, int port)
    {
        var cgi = Path.Combine(_www, "cgi-bin");
        Directory.CreateDirectory(cgi);
        var script = Path.Combine(cgi, "peer");
        await File.WriteAllTextAsync(script, "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho \"$REMOTE_ADDR\"\n");
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var psi = new ProcessStartInfo("ip", ["netns", "exec", ns.Namespace!, "busybox", "httpd", "-f", "-p", "0.0.0.0:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-h", _www])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        _servers.Add(Process.Start(psi)!);
        // Listening once a local request is answered.
        for (var i = 0; i < 50; i++)
        {
            if (await TryGetAsync(ns, $"http://127.0.0.1:{port}/cgi-bin/peer") is not null) return;
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"busybox httpd did not start in {ns.Namespace}");
    }

    /// <summary>The body busybox wget gets from <paramref name="url"/> inside the namespace, or null when it gets none within 3 s (busybox wget -T crashes: timeout stops it instead).</summary>
    public static async Task<string?> TryGetAsync(HostNetwork ns, string url)
    {
        try
        {
            return (await HostCommand.RunAsync("ip", ["netns", "exec", ns.Namespace!, "busybox", "timeout", "3", "busybox", "wget", "-q", "-O", "-", url])).Trim();
        }
        catch (HostCommandException)
        {
            return null;
        }
    }

    /// <summary>Whether one ping from the namespace gets an answer within 2 s.</summary>
    public static async Task<bool> PingsAsync(HostNetwork ns, string address)
    {
        try
        {
            await HostCommand.RunAsync("ip", ["netns", "exec", ns.Namespace!, "busybox", "ping", "-c", "1", "-W", "2", address]);
            return true;
        }
        catch (HostCommandException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _servers)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await p.WaitForExitAsync();
            p.Dispose();
        }
        var root = new HostNetwork();
        foreach (var link in _hostLinks)
            if ((await root.LinksAsync(default)).Any(l => l.Name == link)) await root.IpAsync(default, "link", "delete", link);
        foreach (var ns in _namespaces) await ns.DeleteNamespaceAsync(default);
        if (Directory.Exists(_www)) Directory.Delete(_www, recursive: true);
    }
}
