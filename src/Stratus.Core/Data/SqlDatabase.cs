using System.Collections;
using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace Stratus.Core.Data;

/// <summary>
/// A service's database in plain ADO.NET, beside EF Core over the same tables, for the paths a busy service takes
/// all day (a network service's ports, a block storage service's heartbeats). EF Core ships as IL and builds its
/// query pipeline at run time: its first query costs a process about 30 MiB of code and type data. Rows map to
/// classes by column name (EF Core's columns are the properties' names); <c>@name</c> parameters come from an
/// object's properties, a list expanding to one parameter per value (<c>IN @ids</c>). Dapper does the same, but
/// loads System.Xml and System.Linq.Expressions with it (4 MiB resident). SQL is written with ANSI quotes, turned
/// into backticks for MySQL.
/// </summary>
public sealed partial class SqlDatabase(DatabaseUrl url)
{
    readonly ConcurrentDictionary<string, string> _mysql = new(StringComparer.Ordinal);

    /// <summary>The statement in this database's dialect (backticks for MySQL).</summary>
    internal string Dialect(string ansi) =>
        url.Kind == DatabaseKind.MySql ? _mysql.GetOrAdd(ansi, static s => s.Replace('"', '`')) : ansi;

    public async Task<List<T>> QueryAsync<T>(string sql, object? args, CancellationToken ct)
    {
        await using var conn = url.CreateConnection();
        await conn.OpenAsync(ct);
        return await new SqlSession(this, conn, null, ct).QueryAsync<T>(sql, args);
    }

    /// <summary>
    /// The rows of a query one by one as the database hands them over (the same <see cref="SqlRow"/>, on the next row
    /// each step), on a connection of its own until the enumeration ends: a caller that writes each row and lets it go
    /// never holds all.
    /// </summary>
    public async IAsyncEnumerable<SqlRow> StreamAsync(string sql, object? args, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var conn = url.CreateConnection();
        await conn.OpenAsync(ct);
        await using var cmd = new SqlSession(this, conn, null, ct).Command(sql, args);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var row = new SqlRow(reader);
        while (await reader.ReadAsync(ct)) yield return row;
    }

    /// <summary>The first row's value, or the default when there is none.</summary>
    public async Task<T?> FirstAsync<T>(string sql, object? args, CancellationToken ct) =>
        await QueryAsync<T>(sql, args, ct) is [var first, ..] ? first : default;

    public async Task<int> ExecuteAsync(string sql, object? args, CancellationToken ct)
    {
        using var turn = await TurnAsync(ct);
        await using var conn = url.CreateConnection();
        await conn.OpenAsync(ct);
        return await new SqlSession(this, conn, null, ct).ExecuteAsync(sql, args);
    }

    /// <summary>Runs <paramref name="work"/> in one transaction, committed when it returns.</summary>
    public async Task<T> InTransactionAsync<T>(Func<SqlSession, Task<T>> work, CancellationToken ct)
    {
        using var turn = await TurnAsync(ct);
        await using var conn = url.CreateConnection();
        await conn.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var result = await work(new SqlSession(this, conn, tx, ct));
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

    [GeneratedRegex(@"@(\w+)")]
    internal static partial Regex Parameter();
}

/// <summary>Statements on one open connection, in its transaction when there is one.</summary>
public sealed class SqlSession(SqlDatabase db, DbConnection conn, DbTransaction? tx, CancellationToken ct)
{
    public async Task<int> ExecuteAsync(string sql, object? args = null)
    {
        await using var cmd = Command(sql, args);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The rows as <typeparamref name="T"/>: a class filled by column name, or a single column's value.</summary>
    public async Task<List<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var cmd = Command(sql, args);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<T>();
        var row = new SqlRow(reader);
        while (await reader.ReadAsync(ct)) rows.Add(row.As<T>());
        return rows;
    }

    /// <summary>The command with <c>@name</c> bound to <paramref name="args"/>' properties; a list is one parameter per value.</summary>
    internal DbCommand Command(string sql, object? args)
    {
        var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        var props = args is null ? null : SqlRow.PropertiesOf(args.GetType());
        cmd.CommandText = db.Dialect(SqlDatabase.Parameter().Replace(sql, m =>
        {
            if (props?.GetValueOrDefault(m.Groups[1].Value) is not { } p) throw new ArgumentException($"no value for {m.Value} in {sql}");
            var value = p.GetValue(args);
            if (value is not IEnumerable list || value is string)
            {
                Add(cmd, m.Value, value);
                return m.Value;
            }
            var names = new List<string>();
            foreach (var item in list)
            {
                names.Add($"{m.Value}_{names.Count}");
                Add(cmd, names[^1], item);
            }
            // An empty list matches nothing.
            return names.Count == 0 ? "(NULL)" : $"({string.Join(", ", names)})";
        }));
        return cmd;
    }

    static void Add(DbCommand cmd, string name, object? value)
    {
        if (cmd.Parameters.Contains(name)) return;
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value switch
        {
            null => DBNull.Value,
            DateTime { Kind: not DateTimeKind.Utc } t => t.ToUniversalTime(),
            _ => value,
        };
        cmd.Parameters.Add(p);
    }
}

/// <summary>The row a reader is on: a class filled by column name (columns without a property are left out), or a column's value.</summary>
public sealed class SqlRow(DbDataReader reader)
{
    static readonly ConcurrentDictionary<Type, Dictionary<string, PropertyInfo>> Properties = new();

    readonly Dictionary<Type, PropertyInfo?[]> _columns = [];
    readonly Dictionary<string, int> _ordinals = new(StringComparer.Ordinal);

    /// <summary>The row as <typeparamref name="T"/>: a class filled by column name, or the first column's value.</summary>
    public T As<T>()
    {
        if (IsScalar(typeof(T))) return (T)Convert(reader.GetValue(0), typeof(T))!;
        if (!_columns.TryGetValue(typeof(T), out var columns))
        {
            var props = PropertiesOf(typeof(T));
            _columns[typeof(T)] = columns = new PropertyInfo?[reader.FieldCount];
            for (var i = 0; i < columns.Length; i++) columns[i] = props.GetValueOrDefault(reader.GetName(i));
        }
        var row = (T)Activator.CreateInstance(typeof(T))!;
        for (var i = 0; i < columns.Length; i++)
            if (columns[i] is { } p) p.SetValue(row, Convert(reader.GetValue(i), p.PropertyType));
        return row;
    }

    /// <summary>One column's value.</summary>
    public T? Value<T>(string column)
    {
        if (!_ordinals.TryGetValue(column, out var i)) _ordinals[column] = i = reader.GetOrdinal(column);
        return (T?)Convert(reader.GetValue(i), typeof(T));
    }

    internal static Dictionary<string, PropertyInfo> PropertiesOf(Type t) => Properties.GetOrAdd(t, static t =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0)
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase));

    static bool IsScalar(Type t) => (Nullable.GetUnderlyingType(t) ?? t) is var u && (u.IsPrimitive || u == typeof(string) || u == typeof(DateTime) || u == typeof(decimal));

    /// <summary>
    /// A column's value as the property's type: SQLite's integers as booleans and ints, its text as timestamps;
    /// every timestamp in UTC, as stored (SQLite and MySQL hand them back without a kind; see <see cref="UtcConverter"/>).
    /// </summary>
    static object? Convert(object value, Type type)
    {
        if (value is DBNull) return null;
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(DateTime))
            return value switch
            {
                DateTime { Kind: DateTimeKind.Utc } t => t,
                DateTime { Kind: DateTimeKind.Local } t => t.ToUniversalTime(),
                DateTime t => DateTime.SpecifyKind(t, DateTimeKind.Utc),
                DateTimeOffset o => o.UtcDateTime,
                _ => DateTime.Parse(System.Convert.ToString(value, CultureInfo.InvariantCulture)!, CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
            };
        return target.IsInstanceOfType(value) ? value : System.Convert.ChangeType(value, target, CultureInfo.InvariantCulture);
    }
}

/// <summary>The INSERT and UPDATE of a row class whose settable properties are its table's columns, as EF Core names them.</summary>
public static class SqlRows
{
    static readonly ConcurrentDictionary<(string, Type), string> Inserts = new(), Updates = new();

    /// <summary><c>INSERT INTO "ports" ("Id", ...) VALUES (@Id, ...)</c>.</summary>
    public static string Insert(string table, Type type) => Inserts.GetOrAdd((table, type), static k =>
    {
        var columns = Columns(k.Item2);
        return $"INSERT INTO \"{k.Item1}\" ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) VALUES ({string.Join(", ", columns.Select(c => "@" + c))})";
    });

    /// <summary><c>UPDATE "ports" SET "Name" = @Name, ... WHERE "Id" = @Id</c>; the caller may add to the condition.</summary>
    public static string Update(string table, Type type) => Updates.GetOrAdd((table, type), static k =>
        $"UPDATE \"{k.Item1}\" SET {string.Join(", ", Columns(k.Item2).Where(c => c != "Id").Select(c => $"\"{c}\" = @{c}"))} WHERE \"Id\" = @Id");

    static List<string> Columns(Type t) => [.. t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name)];
}
