using System.Data.Common;
using Stratus.Core.Data;

namespace Stratus.BlockStorage.Data;

/// <summary>
/// What a block storage node does all day (each service's heartbeat, each backend's capacity report, the checks at
/// start for work a stop interrupted; volumes made, shown and deleted, with their types and quotas) in plain ADO.NET
/// over the tables <see cref="CinderDb"/> maps, so such a node never builds EF Core's query pipeline
/// (<see cref="SqlDatabase"/> says what that costs). The rest of the API (snapshots, attachments, backups, groups,
/// transfers, types' and quotas' updates) keeps EF Core.
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

    // ---- volumes ----

    public Task<VolumeRow?> VolumeAsync(string id, CancellationToken ct) =>
        sql.FirstAsync<VolumeRow>("SELECT * FROM \"volumes\" WHERE \"Id\" = @id", new { id }, ct);

    /// <summary>A new volume, and its membership of a group when it has one, in one transaction.</summary>
    public Task AddVolumeAsync(VolumeRow volume, string? groupId, CancellationToken ct) => sql.InTransactionAsync(async s =>
    {
        await s.ExecuteAsync(SqlRows.Insert("volumes", typeof(VolumeRow)), volume);
        if (groupId is not null)
            await s.ExecuteAsync(SqlRows.Insert("group_volumes", typeof(GroupVolume)), new GroupVolume { VolumeId = volume.Id, GroupId = groupId });
        return true;
    }, ct);

    /// <summary>
    /// Writes the volume as read and changed, touched at <paramref name="now"/>, with the message that says why it
    /// failed when it did; false when another writer changed it since it was read (the version EF Core checks too).
    /// </summary>
    public Task<bool> SaveVolumeAsync(VolumeRow volume, DateTime now, CancellationToken ct, UserMessage? message = null) => sql.InTransactionAsync(async s =>
    {
        if (!await UpdateAsync(s, volume, now)) return false;
        if (message is not null) await s.ExecuteAsync(SqlRows.Insert("messages", typeof(UserMessage)), message);
        return true;
    }, ct);

    /// <summary>
    /// Cinder's conditional update to deleting: the volume unless another writer changed it since it was read, its
    /// snapshots (a cascade's), its attachments gone, its pending transfer ended; a volume no backend holds and
    /// without snapshots is gone at once. False when the volume changed meanwhile.
    /// </summary>
    public Task<bool> BeginDeleteAsync(VolumeRow volume, IReadOnlyList<Snapshot> snapshots, DateTime now, CancellationToken ct) => sql.InTransactionAsync(async s =>
    {
        volume.Status = VolumeStatus.Deleting;
        if (!await UpdateAsync(s, volume, now)) return false;
        var args = new { volume.Id, now, yes = true, no = false, deleting = "deleting", ids = snapshots.Select(x => x.Id).ToList() };
        await s.ExecuteAsync("UPDATE \"snapshots\" SET \"Status\" = @deleting, \"UpdatedAt\" = @now, \"Version\" = \"Version\" + 1 WHERE \"Id\" IN @ids", args);
        await s.ExecuteAsync("DELETE FROM \"volume_attachment\" WHERE \"VolumeId\" = @Id", args);
        await s.ExecuteAsync("UPDATE \"transfers\" SET \"Deleted\" = @yes, \"DeletedAt\" = @now WHERE \"VolumeId\" = @Id AND \"Deleted\" = @no", args);
        if (volume.Host is null && snapshots.Count == 0) await s.ExecuteAsync("DELETE FROM \"volumes\" WHERE \"Id\" = @Id", args);
        return true;
    }, ct);

    /// <summary>The volume touched and written unless another writer changed it since it was read (its version moved on).</summary>
    static async Task<bool> UpdateAsync(SqlSession s, VolumeRow volume, DateTime now)
    {
        volume.Touch(now);
        return await s.ExecuteAsync(SqlRows.Update("volumes", typeof(VolumeRow)) + " AND \"Version\" = @Version - 1", volume) == 1;
    }

    /// <summary>A deleted volume's rows: its snapshots in <paramref name="snapshotIds"/> (a cascade's), its attachments, itself.</summary>
    public Task RemoveVolumeAsync(string id, IReadOnlyList<string> snapshotIds, CancellationToken ct) => sql.InTransactionAsync(async s =>
    {
        var args = new { id, snapshotIds };
        await s.ExecuteAsync("DELETE FROM \"snapshots\" WHERE \"Id\" IN @snapshotIds", args);
        await s.ExecuteAsync("DELETE FROM \"volume_attachment\" WHERE \"VolumeId\" = @id", args);
        await s.ExecuteAsync("DELETE FROM \"volumes\" WHERE \"Id\" = @id", args);
        return true;
    }, ct);

    /// <summary>The volume's attachments to servers (not those only reserved).</summary>
    public Task<List<VolumeAttachment>> AttachedAsync(string volumeId, CancellationToken ct) =>
        sql.QueryAsync<VolumeAttachment>("SELECT * FROM \"volume_attachment\" WHERE \"VolumeId\" = @volumeId AND \"AttachStatus\" = @attached ORDER BY \"CreatedAt\"",
            new { volumeId, attached = "attached" }, ct);

    public Task<string?> GroupOfAsync(string volumeId, CancellationToken ct) =>
        sql.FirstAsync<string>("SELECT \"GroupId\" FROM \"group_volumes\" WHERE \"VolumeId\" = @volumeId", new { volumeId }, ct);

    public Task<GroupRow?> GroupAsync(string id, CancellationToken ct) =>
        sql.FirstAsync<GroupRow>("SELECT * FROM \"groups\" WHERE \"Id\" = @id", new { id }, ct);

    public Task<Snapshot?> SnapshotAsync(string id, CancellationToken ct) =>
        sql.FirstAsync<Snapshot>("SELECT * FROM \"snapshots\" WHERE \"Id\" = @id", new { id }, ct);

    public Task<List<Snapshot>> SnapshotsOfAsync(string volumeId, CancellationToken ct) =>
        sql.QueryAsync<Snapshot>("SELECT * FROM \"snapshots\" WHERE \"VolumeId\" = @volumeId", new { volumeId }, ct);

    // ---- types ----

    public Task<VolumeType?> TypeAsync(string id, CancellationToken ct) =>
        sql.FirstAsync<VolumeType>("SELECT * FROM \"volume_types\" WHERE \"Id\" = @id", new { id }, ct);

    public Task<VolumeType?> TypeByNameAsync(string name, CancellationToken ct) =>
        sql.FirstAsync<VolumeType>("SELECT * FROM \"volume_types\" WHERE \"Name\" = @name", new { name }, ct);

    /// <summary>Every type's name by its id.</summary>
    public async Task<Dictionary<string, string>> TypeNamesAsync(CancellationToken ct) =>
        (await sql.QueryAsync<VolumeType>("SELECT \"Id\", \"Name\" FROM \"volume_types\"", null, ct)).ToDictionary(t => t.Id, t => t.Name, StringComparer.Ordinal);

    /// <summary>Whether a private type is shared with the project.</summary>
    public async Task<bool> HasTypeAccessAsync(string typeId, string? projectId, CancellationToken ct) =>
        await sql.FirstAsync<string>("SELECT \"ProjectId\" FROM \"volume_type_projects\" WHERE \"VolumeTypeId\" = @typeId AND \"ProjectId\" = @projectId",
            new { typeId, projectId }, ct) is not null;

    // ---- quotas ----

    public Task<List<QuotaClass>> QuotaClassAsync(string className, CancellationToken ct) =>
        sql.QueryAsync<QuotaClass>("SELECT * FROM \"quota_classes\" WHERE \"ClassName\" = @className", new { className }, ct);

    public Task<List<Quota>> QuotasAsync(string projectId, CancellationToken ct) =>
        sql.QueryAsync<Quota>("SELECT * FROM \"quotas\" WHERE \"ProjectId\" = @projectId", new { projectId }, ct);

    /// <summary>What a project holds, as its quotas count it: volumes and snapshots with their volume's type, backups' sizes, groups.</summary>
    public async Task<ProjectUsage> UsageAsync(string projectId, CancellationToken ct)
    {
        var args = new { projectId };
        return new(
            await sql.QueryAsync<Held>("SELECT \"Size\", \"VolumeTypeId\" FROM \"volumes\" WHERE \"ProjectId\" = @projectId", args, ct),
            await sql.QueryAsync<Held>("SELECT s.\"VolumeSize\" AS \"Size\", v.\"VolumeTypeId\" FROM \"snapshots\" s LEFT JOIN \"volumes\" v ON v.\"Id\" = s.\"VolumeId\" " +
                "WHERE s.\"ProjectId\" = @projectId", args, ct),
            await sql.QueryAsync<int>("SELECT \"Size\" FROM \"backups\" WHERE \"ProjectId\" = @projectId", args, ct),
            Convert.ToInt32(await sql.FirstAsync<long>("SELECT COUNT(*) FROM \"groups\" WHERE \"ProjectId\" = @projectId", args, ct)));
    }

    // ---- the scheduler's ----

    /// <summary>The cinder-volume services not disabled.</summary>
    public Task<List<ServiceRecord>> VolumeServicesAsync(CancellationToken ct) =>
        sql.QueryAsync<ServiceRecord>("SELECT * FROM \"services\" WHERE \"Binary\" = @binary AND \"Disabled\" = @no", new { binary = CinderOptions.Volume, no = false }, ct);

    public Task<ServiceRecord?> ServiceAsync(string host, string binary, CancellationToken ct) =>
        sql.FirstAsync<ServiceRecord>("SELECT * FROM \"services\" WHERE \"Host\" = @host AND \"Binary\" = @binary", new { host, binary }, ct);

    /// <summary>The gigabytes of volumes on each pool (<c>host@backend#pool</c>).</summary>
    public async Task<List<Held>> UsedByPoolAsync(CancellationToken ct) =>
        await sql.QueryAsync<Held>("SELECT \"Host\", SUM(\"Size\") AS \"Size\" FROM \"volumes\" WHERE \"Host\" IS NOT NULL GROUP BY \"Host\"", null, ct);
}

/// <summary>Gigabytes held: a volume's or snapshot's with its volume type, or a pool's.</summary>
public sealed class Held
{
    public int Size { get; set; }
    public string? VolumeTypeId { get; set; }
    public string? Host { get; set; }
}

public sealed record ProjectUsage(List<Held> Volumes, List<Held> Snapshots, List<int> Backups, int Groups);
