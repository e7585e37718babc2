using System.Diagnostics;

namespace Stratus.Testing;

/// <summary>
/// A database server from Debian started by hand for a test, in a temporary data directory, on loopback and a free
/// port (there is no systemd here: see ENVIRONMENT.md), and stopped and removed on dispose.
/// </summary>
public abstract class DatabaseServer : IAsyncDisposable
{
    protected string DataDir { get; } = Directory.CreateTempSubdirectory("stratus-db-").FullName;
    public int Port { get; } = FreePort.Next();

    /// <summary>A database of its own for <paramref name="user"/> (password <paramref name="password"/>), as the connection URL a service's file takes.</summary>
    public abstract Task<string> CreateDatabaseAsync(string name, string user, string password);

    /// <summary>Runs <paramref name="sql"/> in <paramref name="database"/> with the server's own client, as the administrator; what it prints, unaligned.</summary>
    public abstract Task<string> QueryAsync(string database, string sql);

    protected abstract Task StopAsync();

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            Directory.Delete(DataDir, recursive: true);
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs a program to its end (in /tmp, which the postgres user can enter); what it printed, or an exception with its error output.</summary>
    protected static async Task<string> RunAsync(string file, params string[] args) =>
        (await ProcessRunner.RunAsync(file, args, workingDirectory: "/tmp")).EnsureSuccess($"{file} {string.Join(' ', args)}").Stdout;
}

/// <summary>PostgreSQL: initdb and pg_ctl as the postgres user, trust authentication on loopback.</summary>
public sealed class PostgresServer : DatabaseServer
{
    readonly string _bin = Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")).FirstOrDefault()
        ?? throw new InvalidOperationException("PostgreSQL is not installed (test.sh installs it)");
    bool _started;

    PostgresServer()
    {
    }

    public static async Task<PostgresServer> StartAsync()
    {
        var server = new PostgresServer();
        try
        {
            await RunAsync("chown", "postgres", server.DataDir);
            await server.AsPostgresAsync("initdb", "-D", server.DataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8");
            await server.AsPostgresAsync("pg_ctl", "-D", server.DataDir, "-w", "-l", Path.Combine(server.DataDir, "log"),
                "-o", $"-p {server.Port} -k {server.DataDir} -c listen_addresses=127.0.0.1", "start");
            server._started = true;
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public override async Task<string> CreateDatabaseAsync(string name, string user, string password)
    {
        // One statement a call: CREATE DATABASE cannot run inside the transaction psql makes of several.
        await QueryAsync("postgres", $"CREATE USER \"{user}\" PASSWORD '{password}'");
        await QueryAsync("postgres", $"CREATE DATABASE \"{name}\" OWNER \"{user}\"");
        return $"postgresql://{user}:{password}@127.0.0.1:{Port}/{name}";
    }

    public override Task<string> QueryAsync(string database, string sql) =>
        AsPostgresAsync("psql", "-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres",
            "-d", database, "-v", "ON_ERROR_STOP=1", "-XAt", "-c", sql);

    protected override async Task StopAsync()
    {
        if (_started) await AsPostgresAsync("pg_ctl", "-D", DataDir, "-m", "fast", "-w", "stop");
    }

    Task<string> AsPostgresAsync(string program, params string[] args) =>
        RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, program), .. args]);
}

/// <summary>MariaDB: mariadb-install-db and mariadbd as root, on loopback; the seed's <c>mysql+pymysql://</c> URLs.</summary>
public sealed class MariaDbServer : DatabaseServer
{
    Process? _server;
    string Socket => Path.Combine(DataDir, "mysqld.sock");

    MariaDbServer()
    {
    }

    public static async Task<MariaDbServer> StartAsync()
    {
        var server = new MariaDbServer();
        try
        {
            await RunAsync("mariadb-install-db", "--no-defaults", "--user=root", $"--datadir={server.DataDir}/db",
                "--auth-root-authentication-method=normal", "--skip-test-db");
            var psi = new ProcessStartInfo("mariadbd") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "--no-defaults", "--user=root", $"--datadir={server.DataDir}/db", $"--socket={server.Socket}", $"--port={server.Port}",
                         "--bind-address=127.0.0.1", $"--pid-file={server.DataDir}/mysqld.pid", "--skip-log-bin" })
                psi.ArgumentList.Add(a);
            server._server = Process.Start(psi)!;
            server._server.BeginOutputReadLine();
            server._server.BeginErrorReadLine();
            for (var i = 0; ; i++)
            {
                try
                {
                    await server.QueryAsync("mysql", "SELECT 1");
                    return server;
                }
                catch (InvalidOperationException) when (i < 100 && !server._server.HasExited)
                {
                    await Task.Delay(100);
                }
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public override async Task<string> CreateDatabaseAsync(string name, string user, string password)
    {
        await QueryAsync("mysql", $"CREATE DATABASE `{name}`; CREATE USER IF NOT EXISTS '{user}'@'127.0.0.1' IDENTIFIED BY '{password}'; " +
            $"GRANT ALL ON `{name}`.* TO '{user}'@'127.0.0.1';");
        return $"mysql+pymysql://{user}:{password}@127.0.0.1:{Port}/{name}";
    }

    public override Task<string> QueryAsync(string database, string sql) =>
        RunAsync("mariadb", "--no-defaults", $"--socket={Socket}", "-uroot", "-N", "-B", database, "-e", sql);

    protected override async Task StopAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill();
            await _server.WaitForExitAsync();
        }
        _server?.Dispose();
    }
}

/// <summary>
/// A database of one kind for a test: <c>sqlite</c> in a temporary directory, or a database of its own on a
/// <c>postgresql</c> or <c>mariadb</c> server started for it; all of it removed on dispose.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    readonly DatabaseServer? _server;
    readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("stratus-testdb-");

    TestDatabase(DatabaseServer? server) => _server = server;

    /// <summary>The service's <c>[database] connection</c> URL.</summary>
    public string Connection { get; private set; } = "";

    public static async Task<TestDatabase> StartAsync(string kind, string name)
    {
        var db = new TestDatabase(kind switch
        {
            "postgresql" => await PostgresServer.StartAsync(),
            "mariadb" => await MariaDbServer.StartAsync(),
            "sqlite" => null,
            _ => throw new ArgumentException($"no database kind {kind}"),
        });
        db.Connection = db._server is null ? $"sqlite:///{db._dir.FullName}/{name}.db" : await db._server.CreateDatabaseAsync(name, name, "test-Pa55");
        return db;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _dir.Delete(recursive: true);
    }
}
