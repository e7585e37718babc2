using Stratus.Core.Config;
using Stratus.Core.Data;
using Stratus.Network.DataPlane;

namespace Stratus.Testing;

/// <summary>
/// The bridges of a stopped test cloud, removed. Like Neutron's, the Linux bridge agent leaves a network's bridge and
/// vxlan interface in place when it stops (guests keep their network across its restarts), so every cloud a test
/// stopped with networks left would leave them on the machine, run after run.
/// </summary>
public static class LeftoverBridges
{
    /// <summary>
    /// The bridges, with their vxlan interfaces, of the networks in the network databases of the nodes under
    /// <paramref name="dir"/> (the nodes stopped; a database out of reach is skipped).
    /// </summary>
    public static async Task RemoveAsync(string dir)
    {
        if (!Directory.Exists(dir)) return;
        var bridges = new NetworkBridges(new HostNetwork(), null, new Dictionary<string, string>());
        var present = (await bridges.BridgesAsync(CancellationToken.None)).ToHashSet(StringComparer.Ordinal);
        foreach (var conf in Directory.EnumerateFiles(dir, "neutron.conf", SearchOption.AllDirectories))
            foreach (var bridge in (await NetworkIdsAsync(conf)).Select(NetworkBridges.BridgeOf))
                if (present.Remove(bridge))
                    await bridges.RemoveAsync(bridge, CancellationToken.None);
    }

    static async Task<IReadOnlyList<string>> NetworkIdsAsync(string neutronConf)
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
            command.CommandText = $"SELECT {url.Quote("Id")} FROM {url.Quote("networks")}";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) ids.Add(reader.GetString(0));
        }
        catch (System.Data.Common.DbException)
        {
        }
        return ids;
    }
}
