using System.Data.Common;
using System.Globalization;

namespace Stratus.Core.Data;

/// <summary>
/// The schema generation a service's database was last synced to, in its table <c>stratus_schema</c>. A db sync (and
/// <c>node start</c>, which syncs) stamps it; a Stratus older than the stamp refuses the database rather than writing
/// rows a newer schema does not expect.
/// </summary>
public static class SchemaVersion
{
    /// <summary>
    /// This Stratus's generation: raised with every change to a model, whose step to it goes into that service's
    /// <see cref="SchemaHistory"/> (a service without a step for a generation just gets the new stamp).
    /// </summary>
    public const int Current = 1;

    const string Table = "stratus_schema";

    /// <summary>The database's generation: 0 for one made before the stamp existed, or not made yet.</summary>
    public static async Task<int> ReadAsync(DatabaseUrl url, CancellationToken ct = default)
    {
        await using var connection = url.CreateConnection();
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT MAX({url.Quote("version")}) FROM {url.Quote(Table)}";
        try
        {
            return await command.ExecuteScalarAsync(ct) is { } v and not DBNull ? Convert.ToInt32(v, CultureInfo.InvariantCulture) : 0;
        }
        catch (DbException)
        {
            return 0; // no stamp table yet
        }
    }

    /// <summary>Refuses a database that a newer Stratus synced; else its generation (to stamp after a sync when older).</summary>
    public static async Task<int> RefuseNewerAsync(DatabaseUrl url, CancellationToken ct = default)
    {
        var stored = await ReadAsync(url, ct);
        if (stored > Current)
            throw new SchemaVersionException($"the {url.Kind} database{(url.SqlitePath is null ? "" : " " + url.SqlitePath)} has schema version " +
                $"{stored}, newer than this Stratus knows ({Current}): a newer Stratus synced it. Run that one, or restore the backup taken before the upgrade.");
        return stored;
    }

    /// <summary>Records the generation the database now has (this Stratus's, once synced).</summary>
    public static async Task StampAsync(DatabaseUrl url, int version = Current, CancellationToken ct = default)
    {
        await using var connection = url.CreateConnection();
        await connection.OpenAsync(ct);
        foreach (var sql in new[]
                 {
                     $"CREATE TABLE IF NOT EXISTS {url.Quote(Table)} ({url.Quote("version")} INTEGER NOT NULL)",
                     $"DELETE FROM {url.Quote(Table)}",
                     $"INSERT INTO {url.Quote(Table)} ({url.Quote("version")}) VALUES ({version.ToString(CultureInfo.InvariantCulture)})",
                 })
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync(ct);
        }
    }
}

/// <summary>
/// A database of another generation than this Stratus's that it will not serve: one a newer Stratus synced, or an
/// older one met by a node start that may not upgrade it. The message says which and what to do.
/// </summary>
public sealed class SchemaVersionException(string message) : Exception(message);
