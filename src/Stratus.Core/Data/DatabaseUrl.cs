using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Stratus.Core.Data;

/// <summary>
/// A SQLAlchemy-style <c>[database] connection</c> URL as the seed writes it, mapped to an EF Core
/// provider: <c>sqlite:///relative.db</c>, <c>sqlite:////abs/path.db</c>,
/// <c>postgresql://user:pass@host:port/db</c>, <c>mysql+pymysql://user:pass@host:port/db</c>.
/// </summary>
public sealed record DatabaseUrl(DatabaseKind Kind, string ConnectionString, string? SqlitePath)
{
    public static DatabaseUrl Parse(string url)
    {
        var scheme = url.Split("://", 2)[0];
        var dialect = scheme.Split('+')[0].ToLowerInvariant();
        switch (dialect)
        {
            case "sqlite":
                {
                    var rest = url[(scheme.Length + 3)..];
                    if (rest.Length == 0 || rest == "/" || rest == "/:memory:")
                        throw new FormatException("in-memory SQLite cannot be shared by the services; give a file path (sqlite:////abs/path.db)");
                    var path = rest[1..]; // "sqlite:///x.db" -> "x.db", "sqlite:////abs" -> "/abs"
                    var q = path.IndexOf('?', StringComparison.Ordinal);
                    if (q >= 0) path = path[..q];
                    var cs = new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 30, Pooling = true };
                    return new(DatabaseKind.Sqlite, cs.ToString(), path);
                }
            case "postgresql" or "postgres":
                return ParsePostgres(url, scheme);
            case "mysql" or "mariadb":
                {
                    var u = new Uri("db" + url[scheme.Length..]);
                    var (user, pass) = Credentials(u);
                    var cs = $"Server={u.Host};Port={(u.Port > 0 ? u.Port : 3306)};Database={u.AbsolutePath.Trim('/')};User={user};Password={pass};";
                    return new(DatabaseKind.MySql, cs, null);
                }
            default:
                throw new FormatException($"unsupported database URL scheme '{scheme}' (use sqlite, postgresql or mysql+pymysql)");
        }
    }

    // Each provider in a method of its own: the JIT loads an assembly when it compiles a method that
    // names one of its types, so a SQLite node never loads Npgsql or MySQL.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static DatabaseUrl ParsePostgres(string url, string scheme)
    {
        var u = new Uri("db" + url[scheme.Length..]);
        var (user, pass) = Credentials(u);
        var cs = new NpgsqlConnectionStringBuilder
        {
            Host = u.Host,
            Port = u.Port > 0 ? u.Port : 5432,
            Database = u.AbsolutePath.Trim('/'),
            Username = user,
            Password = pass,
            MaxPoolSize = 50,
        };
        foreach (var (k, v) in Query(u))
            if (k == "host") cs.Host = v; // unix socket directory, as libpq's ?host=
        return new(DatabaseKind.PostgreSql, cs.ToString(), null);
    }

    static (string User, string Password) Credentials(Uri u)
    {
        var parts = u.UserInfo.Split(':', 2);
        return (Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "");
    }

    static IEnumerable<(string, string)> Query(Uri u) =>
        u.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (p[0], p.Length > 1 ? Uri.UnescapeDataString(p[1]) : ""));

    public void Configure(DbContextOptionsBuilder options)
    {
        switch (Kind)
        {
            case DatabaseKind.Sqlite: ConfigureSqlite(options, ConnectionString); break;
            case DatabaseKind.PostgreSql: ConfigureNpgsql(options, ConnectionString); break;
            case DatabaseKind.MySql: ConfigureMySql(options, ConnectionString); break;
        }
        // A failed statement or save is the caller's to handle: most are the unique-index conflicts that concurrent
        // creates retry (an address, a MAC, a project's default group), and an unhandled one reaches the error
        // middleware, which logs it. EF Core would log each as an error with its stack trace, resolved from the PDBs.
        options.ConfigureWarnings(w => w.Log((RelationalEventId.CommandError, LogLevel.Debug), (CoreEventId.SaveChangesFailed, LogLevel.Debug)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ConfigureSqlite(DbContextOptionsBuilder options, string cs) => options.UseSqlite(cs);

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ConfigureNpgsql(DbContextOptionsBuilder options, string cs) => options.UseNpgsql(cs);

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ConfigureMySql(DbContextOptionsBuilder options, string cs) => options.UseMySQL(cs).AddInterceptors(MariaDbDeleteInterceptor.Instance);

    /// <summary>
    /// A new (unopened) ADO.NET connection to the database, from the provider's pool, for code that
    /// reads a few rows without EF Core (the identity's token and catalog paths).
    /// </summary>
    public DbConnection CreateConnection() => Kind switch
    {
        DatabaseKind.Sqlite => CreateSqlite(ConnectionString),
        DatabaseKind.PostgreSql => CreateNpgsql(ConnectionString),
        _ => CreateMySql(ConnectionString),
    };

    [MethodImpl(MethodImplOptions.NoInlining)]
    static DbConnection CreateSqlite(string cs) => new SqliteConnection(cs);

    /// <summary>
    /// A connection that really reaches the database, for health checks: for SQLite, unpooled and without
    /// creating a missing file (a pooled connection keeps a deleted or moved file open).
    /// </summary>
    public DbConnection CreateProbeConnection() => Kind == DatabaseKind.Sqlite
        ? CreateSqlite(new SqliteConnectionStringBuilder(ConnectionString) { Pooling = false, Mode = SqliteOpenMode.ReadWrite }.ToString())
        : CreateConnection();

    [MethodImpl(MethodImplOptions.NoInlining)]
    static DbConnection CreateNpgsql(string cs) => new NpgsqlConnection(cs);

    [MethodImpl(MethodImplOptions.NoInlining)]
    static DbConnection CreateMySql(string cs) => new MySql.Data.MySqlClient.MySqlConnection(cs);

    /// <summary>Quotes a table or column name as the dialect does (backticks for MySQL, ANSI double quotes otherwise).</summary>
    public string Quote(string name) => Kind == DatabaseKind.MySql ? $"`{name}`" : $"\"{name}\"";

    /// <summary>
    /// A service's <c>*-manage db sync</c> of <typeparamref name="TDb"/> at <paramref name="connection"/>: creates the schema
    /// if missing, else applies the steps of <paramref name="history"/> newer than its stamp (only with <paramref name="upgrade"/>:
    /// a node start without it refuses an older schema rather than serve on it).
    /// </summary>
    public static async Task SyncAsync<TDb>(string connection, Func<DbContextOptions<TDb>, TDb> create, SchemaHistory history, bool upgrade = true,
        CancellationToken ct = default) where TDb : DbContext
    {
        var url = Parse(connection);
        if (await url.IsCurrentAsync(ct)) return;
        var b = new DbContextOptionsBuilder<TDb>();
        url.Configure(b);
        await using var db = create(b.Options);
        await url.EnsureSchemaAsync(db, history, upgrade, ct);
    }

    /// <summary>
    /// True when the database was synced by this generation (every start but the first): nothing to do, found without
    /// EF Core (whose model costs a service's start, while its first answers need no database).
    /// </summary>
    public async Task<bool> IsCurrentAsync(CancellationToken ct = default)
    {
        if (SqlitePath is not null && !File.Exists(SqlitePath)) return false;
        if (await SchemaVersion.RefuseNewerAsync(this, ct) != SchemaVersion.Current) return false;
        if (Kind == DatabaseKind.Sqlite)
        {
            await using var connection = CreateConnection();
            await connection.OpenAsync(ct);
            await using var wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            await wal.ExecuteNonQueryAsync(ct);
        }
        return true;
    }

    /// <summary>The schema of <paramref name="db"/> created or upgraded (see <see cref="SyncAsync{TDb}"/>); for SQLite also
    /// switches the file to WAL so a <c>keystone-manage</c> run and a serving node can use one file at once.</summary>
    public async Task EnsureSchemaAsync(DbContext db, SchemaHistory history, bool upgrade = true, CancellationToken ct = default)
    {
        if (SqlitePath is not null && Path.GetDirectoryName(Path.GetFullPath(SqlitePath)) is { } dir)
            Directory.CreateDirectory(dir);
        var stored = await SchemaVersion.RefuseNewerAsync(this, ct);
        if (await db.Database.EnsureCreatedAsync(ct))
        {
            if (history.Seed is { } seed) await seed(db, ct);
            await SchemaVersion.StampAsync(this, ct: ct);
        }
        else if (stored < SchemaVersion.Current)
        {
            if (!upgrade)
                throw new SchemaVersionException($"the {Kind} database{(SqlitePath is null ? "" : " " + SqlitePath)} has schema version {stored}, " +
                    $"older than this Stratus's ({SchemaVersion.Current}): back it up, then run `./stratus {history.SyncVerb}` " +
                    "(or start the node with --upgrade-databases).");
            var change = new SchemaChange(db, this);
            foreach (var step in history.Migrations.Where(m => m.Version > stored).OrderBy(m => m.Version))
            {
                await step.UpAsync(change, ct);
                await SchemaVersion.StampAsync(this, step.Version, ct);
            }
            if (history.Seed is { } seed) await seed(db, ct);
            await SchemaVersion.StampAsync(this, ct: ct);
        }
        if (Kind == DatabaseKind.Sqlite)
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
    }
}

public enum DatabaseKind { Sqlite, PostgreSql, MySql }

public static class ServiceDbServices
{
    /// <summary>
    /// The service's database context, scoped to a request, from a pool: a context made per request rebuilt its
    /// options and internal services each time (under 32 clients listing networks, a tenth of all the network
    /// service allocated). A context holds no state of its own between requests (EF Core resets it on return).
    /// </summary>
    public static IServiceCollection AddServiceDb<TDb>(this IServiceCollection services, DatabaseUrl db) where TDb : ServiceDb =>
        services.AddDbContextPool<TDb>(db.Configure, poolSize: 64);
}
