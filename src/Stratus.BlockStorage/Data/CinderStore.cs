using System.Data.Common;
using Stratus.Core.Data;

namespace Stratus.BlockStorage.Data;

/// <summary>
/// What a block storage node does all day when no request comes (each service's heartbeat, each backend's capacity
/// report, the checks at start for work a stop interrupted) in plain ADO.NET over the tables <see cref="CinderDb"/>
/// maps: an idle node never builds EF Core's query pipeline (<see cref="SqlDatabase"/> says what that costs).
/// </summary>
public sealed class CinderStore(SqlDatabase sql)
{
    /// <summary>A service's heartbeat (Cinder's report_state): its row made on its first report, updated on each.</summary>
    public async Task RecordHeartbeatAsync(string host, string binary, string topic, string zone, DateTime now, CancellationToken ct, string? backendName = null)
    {
        var args = new { host, binary, topic, zone, now, backendName, no = false };
        for (var attempt = 0; ; attempt++)
            try
            {
                if (await sql.ExecuteAsync("UPDATE \"services\" SET \"AvailabilityZone\" = @zone, \"BackendName\" = @backendName, \"UpdatedAt\" = @now, " +
                    "\"LastSeenUp\" = @now, \"ReportCount\" = \"ReportCount\" + 1 WHERE \"Host\" = @host AND \"Binary\" = @binary", args, ct) > 0) return;
                await sql.ExecuteAsync("INSERT INTO \"services\" (\"Host\", \"Binary\", \"Topic\", \"BackendName\", \"AvailabilityZone\", \"Disabled\", " +
                    "\"ForcedDown\", \"ReportCount\", \"CreatedAt\", \"UpdatedAt\", \"LastSeenUp\") VALUES (@host, @binary, @topic, @backendName, @zone, @no, @no, 1, @now, @now, @now)", args, ct);
                return;
            }
            catch (DbException e) when (SqlDatabase.IsDuplicate(e) && attempt == 0)
            {
                // Another process of the same host made the row first: update it.
            }
    }

    /// <summary>What a backend's volumes take (<c>host@backend#pool</c>): their sizes in all and their number.</summary>
    public async Task<(int Allocated, int Count)> AllocatedAsync(string backendHost, CancellationToken ct)
    {
        var prefix = backendHost + "#";
        var sizes = await sql.QueryAsync<int>("SELECT \"Size\" FROM \"volumes\" WHERE SUBSTR(\"Host\", 1, @length) = @prefix", new { prefix, length = prefix.Length }, ct);
        return (sizes.Sum(), sizes.Count);
    }

    /// <summary>Volumes in <paramref name="statuses"/> on a backend (<c>host@backend</c>) or, with null, on none yet.</summary>
    public Task<List<string>> VolumesAsync(string? backendHost, string[] statuses, CancellationToken ct) => backendHost is null
        ? sql.QueryAsync<string>("SELECT \"Id\" FROM \"volumes\" WHERE \"Host\" IS NULL AND \"Status\" IN @statuses", new { statuses }, ct)
        : sql.QueryAsync<string>("SELECT \"Id\" FROM \"volumes\" WHERE SUBSTR(\"Host\", 1, @length) = @prefix AND \"Status\" IN @statuses",
            new { statuses, prefix = backendHost + "#", length = backendHost.Length + 1 }, ct);

    /// <summary>How many volumes are in each status.</summary>
    public async Task<IReadOnlyDictionary<string, long>> VolumesByStatusAsync(CancellationToken ct) =>
        (await sql.QueryAsync<string>("SELECT \"Status\" FROM \"volumes\"", null, ct))
            .GroupBy(s => s).ToDictionary(g => g.Key, g => g.LongCount(), StringComparer.Ordinal);

    /// <summary>Whether a backup service has backups in <paramref name="statuses"/>.</summary>
    public async Task<bool> AnyBackupAsync(string host, string[] statuses, CancellationToken ct) =>
        await sql.FirstAsync<string>("SELECT \"Id\" FROM \"backups\" WHERE \"Host\" = @host AND \"Status\" IN @statuses", new { host, statuses }, ct) is not null;
}
