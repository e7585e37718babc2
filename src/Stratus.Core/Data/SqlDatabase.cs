using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Stratus.Core.Data;

/// <summary>
/// A service's database through Dapper, beside EF Core over the same tables, for the paths a busy service
/// takes all day (a network service's ports, a block storage service's heartbeats). EF Core ships as IL and
/// builds its query pipeline at run time: the first query costs a process about 30 MiB of code and type
/// data, where Dapper's mappers cost a few hundred KiB. SQL is written with ANSI quotes, turned into
/// backticks for MySQL; columns are the properties' names, as EF Core maps them.
/// </summary>
public sealed partial class SqlDatabase(DatabaseUrl url)
{
    static SqlDatabase() => SqlMapper.AddTypeHandler(new UtcDateTimeHandler());

    readonly ConcurrentDictionary<string, string> _sql = new(StringComparer.Ordinal);

    public DatabaseUrl Url => url;

    /// <summary>
    /// The statement in this database's dialect: backticks for MySQL; for PostgreSQL, <c>IN @list</c> (which Dapper
    /// expands to one parameter per value elsewhere) as <c>= ANY(@list)</c>, as Dapper passes Npgsql a list as an array.
    /// </summary>
    public string Sql(string ansi) => url.Kind switch
    {
        DatabaseKind.MySql => _sql.GetOrAdd(ansi, static s => s.Replace('"', '`')),
        DatabaseKind.PostgreSql => _sql.GetOrAdd(ansi, static s => InList().Replace(s, " = ANY($1)")),
        _ => ansi,
    };

    [GeneratedRegex(@" IN (@\w+)")]
    private static partial Regex InList();

    public async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var conn = url.CreateConnection();
        await conn.OpenAsync(ct);
        return conn;
    }

    public async Task<List<T>> QueryAsync<T>(string sql, object? args, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return (await conn.QueryAsync<T>(Command(sql, args, null, ct))).AsList();
    }

    public async Task<T?> FirstAsync<T>(string sql, object? args, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.QueryFirstOrDefaultAsync<T>(Command(sql, args, null, ct));
    }

    public async Task<int> ExecuteAsync(string sql, object? args, CancellationToken ct)
    {
        using var turn = await TurnAsync(ct);
        await using var conn = await OpenAsync(ct);
        return await conn.ExecuteAsync(Command(sql, args, null, ct));
    }

    /// <summary>Dapper's command for <paramref name="sql"/> in this dialect, in <paramref name="tx"/> when given.</summary>
    public CommandDefinition Command(string sql, object? args, IDbTransaction? tx, CancellationToken ct) =>
        new(Sql(sql), args, tx, cancellationToken: ct);

    /// <summary>Runs <paramref name="work"/> in one transaction, committed when it returns.</summary>
    public async Task<T> InTransactionAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        using var turn = await TurnAsync(ct);
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var result = await work(conn, tx);
        await tx.CommitAsync(ct);
        return result;
    }

    /// <summary>
    /// A write's turn among this process's writers of a SQLite file (<see cref="SqliteTurns"/>): waiting without a
    /// thread, first come first served, instead of Microsoft.Data.Sqlite's sleeping retries on a busy file.
    /// </summary>
    async Task<IDisposable?> TurnAsync(CancellationToken ct)
    {
        if (url.SqlitePath is not { Length: > 0 } file) return null;
        var turn = SqliteTurns.Of(file);
        await turn.WaitAsync(ct);
        return new Releaser(turn);
    }

    sealed class Releaser(SemaphoreSlim turn) : IDisposable
    {
        public void Dispose() => turn.Release();
    }

    /// <summary>A unique or primary key refused the row: another request made it first.</summary>
    public static bool IsDuplicate(DbException e) => e.GetType().FullName switch
    {
        "Microsoft.Data.Sqlite.SqliteException" => IsSqliteDuplicate(e),
        "MySql.Data.MySqlClient.MySqlException" => IsMySqlDuplicate(e),
        _ => e.SqlState == "23505",
    };

    // Each provider's type in a method of its own, so a node loads only its own provider (see DatabaseUrl).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static bool IsSqliteDuplicate(DbException e) => e is SqliteException { SqliteExtendedErrorCode: 2067 or 1555 }; // UNIQUE, PRIMARYKEY

    [MethodImpl(MethodImplOptions.NoInlining)]
    static bool IsMySqlDuplicate(DbException e) => e is MySql.Data.MySqlClient.MySqlException { Number: 1062 };

    /// <summary>Every timestamp is stored in UTC; SQLite and MySQL hand them back without a kind (see <see cref="UtcConverter"/>).</summary>
    sealed class UtcDateTimeHandler : SqlMapper.TypeHandler<DateTime>
    {
        public override DateTime Parse(object value) => value switch
        {
            DateTime t => t.Kind == DateTimeKind.Utc ? t : DateTime.SpecifyKind(t, DateTimeKind.Utc),
            string s => DateTime.SpecifyKind(DateTime.Parse(s, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc),
            _ => DateTime.SpecifyKind(Convert.ToDateTime(value, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc),
        };

        // No DbType: each provider takes a UTC value for the column EF Core made (PostgreSQL's timestamptz).
        public override void SetValue(IDbDataParameter parameter, DateTime value) =>
            parameter.Value = value.Kind == DateTimeKind.Utc ? value : value.ToUniversalTime();
    }
}
