using System.Globalization;

namespace Stratus.Network.DataPlane;

/// <summary>
/// The metadata proxies in networks' and routers' namespaces, as Neutron's metadata driver runs them: an
/// haproxy per namespace that answers the guests' <c>http://169.254.169.254/</c>, adds
/// <c>X-Neutron-Network-ID</c> (or <c>-Router-ID</c>) and <c>X-Forwarded-For</c>, and passes the request to
/// the metadata agent's unix socket, which signs it for Nova. Each proxy is its config file
/// (<c>stateDirectory/ID.conf</c>) and pid file: that is what it lists and reconciles.
/// </summary>
public sealed class MetadataProxies(string stateDirectory, string agentSocket)
{
    public const string Address = "169.254.169.254";
    public const string AddressCidr = Address + "/32";
    public const int Port = 80;
    const string Haproxy = "haproxy";

    /// <summary>One proxy: the network or router it stands for, the namespace it listens in, where.</summary>
    public sealed record Proxy(string Id, string Namespace, bool ForRouter, string BindHost = Address, int BindPort = Port);

    string ConfigOf(string id) => Path.Combine(stateDirectory, id + ".conf");
    string PidOf(string id) => Path.Combine(stateDirectory, id + ".pid");
    public int? RunningPid(string id) => Daemons.RunningPid(PidOf(id), Haproxy, ConfigOf(id));

    /// <summary>The proxies this host has (a config file each), with haproxy's pid where it runs.</summary>
    public IReadOnlyList<(string Id, int? Pid)> List() =>
        Directory.Exists(stateDirectory)
            ? [.. Directory.EnumerateFiles(stateDirectory, "*.conf").Select(f => Path.GetFileNameWithoutExtension(f)).Where(id => Guid.TryParse(id, out _))
                .Order(StringComparer.Ordinal).Select(id => (id, RunningPid(id)))]
            : [];

    /// <summary>haproxy's configuration, Neutron's template without syslog (a node may have no /dev/log) and without a user switch (the agent's own).</summary>
    internal string Config(Proxy p)
    {
        var (header, other) = p.ForRouter ? ("Router", "Network") : ("Network", "Router");
        return string.Create(CultureInfo.InvariantCulture, $"""
            global
                maxconn     1024
                pidfile     {PidOf(p.Id)}
                daemon

            defaults
                mode http
                option dontlognull
                option http-server-close
                option forwardfor
                retries                 3
                timeout http-request    30s
                timeout connect         30s
                timeout client          32s
                timeout server          32s
                timeout http-keep-alive 30s

            listen listener
                bind {p.BindHost}:{p.BindPort}
                server metadata {agentSocket}
                http-request del-header X-Neutron-{other}-ID
                http-request set-header X-Neutron-{header}-ID {p.Id}

            """);
    }

    /// <summary>The proxy running with its current configuration (restarted when that changed).</summary>
    public async Task EnsureAsync(Proxy p, CancellationToken ct)
    {
        if (!Guid.TryParse(p.Id, out _)) throw new DataPlaneException($"metadata proxy id {p.Id} is not a UUID");
        Directory.CreateDirectory(stateDirectory);
        var config = Config(p);
        var path = ConfigOf(p.Id);
        var same = File.Exists(path) && await File.ReadAllTextAsync(path, ct) == config;
        if (same && RunningPid(p.Id) is not null) return;
        await Daemons.StopAsync(PidOf(p.Id), Haproxy, path, ct);
        await File.WriteAllTextAsync(path, config, ct);
        // haproxy daemonizes once it has bound its address: a missing address is its exit code.
        await Stratus.Core.Processes.HostCommand.RunAsync("ip", ["netns", "exec", p.Namespace, Haproxy, "-q", "-f", path], ct);
    }

    /// <summary>The proxy stopped and its files gone.</summary>
    public async Task RemoveAsync(string id, CancellationToken ct)
    {
        await Daemons.StopAsync(PidOf(id), Haproxy, ConfigOf(id), ct);
        if (File.Exists(ConfigOf(id))) File.Delete(ConfigOf(id));
    }
}
