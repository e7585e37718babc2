using System.Diagnostics;
using Stratus.Core.Config;
using Stratus.Core.Data;
using Stratus.Core.Processes;
using Stratus.Network.DataPlane;

namespace Stratus.Testing;

/// <summary>
/// The data plane of a stopped test cloud, removed. Like Neutron's, the Linux bridge agent leaves a network's bridge and
/// vxlan interface in place when it stops (guests keep their network across its restarts), so every cloud a test
/// stopped with networks left would leave them on the machine, run after run; and an agent stopped before it got to
/// stop its dnsmasq and haproxy (a test host killed, a stop past its timeout) leaves their namespaces.
/// </summary>
public static class LeftoverDataPlane
{
    /// <summary>
    /// The DHCP and router namespaces, with what runs in them, and the bridges, with their vxlan interfaces, of the
    /// networks and routers in the network databases of the nodes under <paramref name="dir"/> (the nodes stopped; a
    /// database out of reach is skipped).
    /// </summary>
    public static async Task RemoveAsync(string dir)
    {
        if (!Directory.Exists(dir)) return;
        var bridges = new NetworkBridges(new HostNetwork(), null, new Dictionary<string, string>());
        var present = (await bridges.BridgesAsync(CancellationToken.None)).ToHashSet(StringComparer.Ordinal);
        foreach (var conf in Directory.EnumerateFiles(dir, "neutron.conf", SearchOption.AllDirectories))
        {
            var networks = await IdsAsync(conf, "networks");
            foreach (var ns in networks.Select(DhcpServers.NamespaceOf).Concat((await IdsAsync(conf, "routers")).Select(RouterNamespaces.NamespaceOf)))
                await RemoveNamespaceAsync(ns);
            foreach (var bridge in networks.Select(NetworkBridges.BridgeOf))
                if (present.Remove(bridge))
                    await bridges.RemoveAsync(bridge, CancellationToken.None);
        }
    }

    static async Task RemoveNamespaceAsync(string name)
    {
        if (!File.Exists(Path.Combine("/run/netns", name))) return;
        foreach (var pid in (await HostCommand.RunAsync("ip", ["netns", "pids", name])).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                using var process = Process.GetProcessById(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture));
                process.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Gone meanwhile.
            }
        }
        await new HostNetwork(name).DeleteNamespaceAsync(CancellationToken.None);
    }

    static async Task<IReadOnlyList<string>> IdsAsync(string neutronConf, string table)
    {
        if (IniFile.Load(neutronConf).GetString("database", "connection") is not { Length: > 0 } connection) return [];
        var url = DatabaseUrl.Parse(connection);
        if (url.SqlitePath is { } path && !File.Exists(path)) return [];
        var ids = new List<string>();
        try
        {
            await using var db = url.CreateConnection();
            await db.OpenAsync();
            await using var command = db.CreateCommand();
            command.CommandText = $"SELECT {url.Quote("Id")} FROM {url.Quote(table)}";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) ids.Add(reader.GetString(0));
        }
        catch (System.Data.Common.DbException)
        {
        }
        return ids;
    }
}
