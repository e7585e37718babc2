using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Stratus.Acceptance.Tests.Infrastructure;

namespace Stratus.Acceptance.Tests;

/// <summary>
/// Upgrades keep data: the databases a node of the release of 2026-12-02 made (tests/fixtures/release-2026-12-02, see its
/// make.sh), met by this release. A node start refuses them until the operator runs the db sync verbs; then every row
/// of every table is there, and the services serve it.
/// </summary>
public sealed class UpgradeTests
{
    // The fixture's node: its directory and address stay the same across the upgrade (image locations and the catalog name them).
    const string NodeDir = "/tmp/stratus-upgrade-fixture";
    const string Address = "127.90.0.1";
    const string FixturePassword = "fixture-Pa55";
    static readonly string Fixture = Path.Combine(ProcessRunner.RepoRoot, "tests", "fixtures", "release-2026-12-02");

    /// <summary>Each database of the fixture: its file in the node and the verb that upgrades it.</summary>
    static readonly (string File, string[] Sync)[] Databases =
    [
        ("keystone/keystone", ["keystone-manage", "db_sync"]),
        ("glance/glance", ["glance-manage", "db_sync"]),
        ("nova/nova_api", ["nova-manage", "api_db", "sync"]),
        ("nova/nova", ["nova-manage", "db", "sync"]),
        ("placement/placement", ["placement-manage", "db", "sync"]),
        ("neutron/neutron", ["neutron-db-manage", "upgrade", "heads"]),
    ];

    /// <summary>A column the release renamed since: its rows are compared under the new name.</summary>
    static readonly Dictionary<(string Table, string Column), string> Renamed = new() { [("consumer", "SecretHash")] = "Secret" };

    static StratusNode FixtureNode(Action<StratusNode> configure)
    {
        if (Directory.Exists(NodeDir)) Directory.Delete(NodeDir, recursive: true);
        return StratusNode.Custom("RegionOne", null, [], node =>
        {
            // The fixture's servers ran on Nova's fake driver: no guest to find again.
            node.SetConfig("nova/nova.conf", "DEFAULT", "compute_driver", "fake.FakeDriver");
            configure(node);
        }, Address, NodeDir, FixturePassword);
    }

    [Fact]
    public async Task A_node_of_the_previous_release_on_SQLite_is_upgraded_by_the_db_sync_verbs_and_by_node_start_when_allowed()
    {
        await using var node = FixtureNode(node =>
        {
            foreach (var (file, _) in Databases)
            {
                // What this release makes of a new database, to compare the upgraded one's schema with.
                using (var made = new SqliteConnection($"Data Source={Path.Combine(NodeDir, file + ".db")};Pooling=False"))
                {
                    made.Open();
                    using var vacuum = made.CreateCommand();
                    vacuum.CommandText = $"VACUUM INTO '{Fresh(file)}'";
                    vacuum.ExecuteNonQuery();
                }
                foreach (var suffix in new[] { ".db", ".db-wal", ".db-shm" }) File.Delete(Path.Combine(NodeDir, file + suffix));
                File.Copy(Path.Combine(Fixture, "sqlite", Path.GetFileName(file) + ".db"), Path.Combine(NodeDir, file + ".db"));
            }
            CopyImages(Path.Combine(Fixture, "sqlite", "images"));
        });
        await node.InitAsync();
        static (DbConnection, DbConnection) Open(string file) =>
            (new SqliteConnection($"Data Source={Path.Combine(Fixture, "sqlite", Path.GetFileName(file) + ".db")};Mode=ReadOnly;Pooling=False"),
                new SqliteConnection($"Data Source={Path.Combine(NodeDir, file + ".db")};Mode=ReadOnly;Pooling=False"));
        const string tables = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";

        await AssertRefusedAsync(node, "keystone-manage db_sync");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(Fixture, "sqlite", "keystone.db")), await File.ReadAllBytesAsync(Path.Combine(NodeDir, "keystone/keystone.db")));
        // Every database but the image service's by its verb, compared before any service runs on it.
        foreach (var (file, sync) in Databases.Where(d => d.File != "glance/glance"))
        {
            await SyncAndCompareAsync(file, sync, Open(file), tables);
            Assert.Equal(await SqliteSchemaAsync(Fresh(file)), await SqliteSchemaAsync(Path.Combine(NodeDir, file + ".db")));
        }

        // The image service's by node start, once allowed (nothing in a running image service rewrites its rows unasked).
        await AssertRefusedAsync(node, "glance-manage db_sync");
        await node.StartAsync("--upgrade-databases");
        var (before, after) = Open("glance/glance");
        await using (before)
        await using (after)
            await AssertEveryRowKeptAsync("glance/glance", before, after, tables);
        Assert.Equal(await SqliteSchemaAsync(Fresh("glance/glance")), await SqliteSchemaAsync(Path.Combine(NodeDir, "glance/glance.db")));
        await AssertServedAsync(node, Path.Combine(Fixture, "sqlite", "images"));
    }

    [Fact]
    public async Task A_node_of_the_previous_release_on_MariaDB_is_upgraded_by_the_db_sync_verbs_with_every_row()
    {
        await using var server = await MariaDbServer.StartAsync();
        // Each dump twice: the database the node upgrades, and the release's rows as they were, to compare with.
        var urls = new Dictionary<string, string>();
        foreach (var (file, _) in Databases)
        {
            var name = Path.GetFileName(file);
            var dump = await File.ReadAllTextAsync(Path.Combine(Fixture, "mariadb", name + ".sql"));
            urls[name] = await server.CreateDatabaseAsync(name, "stratus", "db-Pa55");
            await server.QueryAsync(name, dump);
            await server.CreateDatabaseAsync(name + "_release", "stratus", "db-Pa55");
            await server.QueryAsync(name + "_release", dump);
        }
        await using var node = FixtureNode(node =>
        {
            node.SetConfig("keystone/keystone.conf", "database", "connection", urls["keystone"]);
            node.SetConfig("glance/glance-api.conf", "database", "connection", urls["glance"]);
            node.SetConfig("glance/glance-registry.conf", "database", "connection", urls["glance"]);
            node.SetConfig("nova/nova.conf", "api_database", "connection", urls["nova_api"]);
            node.SetConfig("nova/nova.conf", "database", "connection", urls["nova"]);
            node.SetConfig("placement/placement.conf", "placement_database", "connection", urls["placement"]);
            node.SetConfig("neutron/neutron.conf", "database", "connection", urls["neutron"]);
            CopyImages(Path.Combine(Fixture, "mariadb", "images"));
        });
        await node.InitAsync();
        MySql.Data.MySqlClient.MySqlConnection Connect(string database) =>
            new($"Server=127.0.0.1;Port={server.Port};Database={database};User=stratus;Password=db-Pa55;Pooling=false");

        await AssertRefusedAsync(node, "keystone-manage db_sync");
        Assert.Equal("", await server.QueryAsync("keystone", "SHOW TABLES LIKE 'trust'"));
        foreach (var (file, sync) in Databases)
            await SyncAndCompareAsync(file, sync, (Connect(Path.GetFileName(file) + "_release"), Connect(Path.GetFileName(file))), "SHOW TABLES");
        await node.StartAsync();
        await AssertServedAsync(node, Path.Combine(Fixture, "mariadb", "images"));
    }

    static string Fresh(string file) => Path.Combine(NodeDir, Path.GetFileName(file) + ".new.db");

    /// <summary>A SQLite database's tables with their columns (name, type, NOT NULL, collation) and its indexes, in one order.</summary>
    static async Task<List<string>> SqliteSchemaAsync(string path)
    {
        await using var c = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await c.OpenAsync();
        var schema = new List<string>();
        foreach (var table in await ColumnAsync(c, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"))
        {
            var sql = (await ColumnAsync(c, $"SELECT sql FROM sqlite_master WHERE name = '{table}'")).Single();
            await using var command = c.CreateCommand();
            command.CommandText = $"SELECT name, type, \"notnull\" FROM pragma_table_info('{table}') ORDER BY name";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var name = reader.GetString(0);
                // The collation is only in the table's SQL: "Name" TEXT COLLATE NOCASE NOT NULL.
                var nocase = sql.Contains($"\"{name}\" TEXT COLLATE NOCASE", StringComparison.Ordinal) ? " NOCASE" : "";
                schema.Add($"{table}.{name} {reader.GetString(1)}{(reader.GetInt64(2) == 1 ? " NOT NULL" : "")}{nocase}");
            }
        }
        schema.AddRange(await ColumnAsync(c, "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"));
        return schema;
    }

    /// <summary>A start without --upgrade-databases refuses the first database of an older schema, and says what to do.</summary>
    static async Task AssertRefusedAsync(StratusNode node, string verb)
    {
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => node.StartAsync());
        Assert.Contains("has schema version 0, older than this Stratus's", refused.Message);
        Assert.Contains($"./stratus {verb}`", refused.Message);
        Assert.Contains("--upgrade-databases", refused.Message);
    }

    static async Task SyncAndCompareAsync(string file, string[] sync, (DbConnection Before, DbConnection After) databases, string listTables)
    {
        (await ProcessRunner.RunAsync(ProcessRunner.Stratus, [.. sync, "--config-dir", NodeDir])).EnsureSuccess(string.Join(' ', sync));
        await using var before = databases.Before;
        await using var after = databases.After;
        await AssertEveryRowKeptAsync(file, before, after, listTables);
    }


    /// <summary>The fixture's image data where the images' locations point.</summary>
    static void CopyImages(string from)
    {
        var to = Path.Combine(NodeDir, "glance", "images");
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
    }

    /// <summary>Every row of every table the old release made is in the upgraded database, column by column.</summary>
    static async Task AssertEveryRowKeptAsync(string database, DbConnection before, DbConnection after, string listTables)
    {
        await before.OpenAsync();
        await after.OpenAsync();
        var tables = await ColumnAsync(before, listTables);
        Assert.NotEmpty(tables);
        var failures = new List<string>();
        foreach (var table in tables)
        {
            var oldColumns = await ColumnsAsync(before, table);
            var newColumns = await ColumnsAsync(after, table);
            var compared = oldColumns.Select(c => (Old: c, New: Renamed.GetValueOrDefault((table, c), c))).Where(c => newColumns.Contains(c.New)).ToList();
            if (compared.Count != oldColumns.Count)
                failures.Add($"{table} lost columns {string.Join(", ", oldColumns.Except(compared.Select(c => c.Old)))}");
            var old = await RowsAsync(before, table, compared.Select(c => c.Old));
            var upgraded = await RowsAsync(after, table, compared.Select(c => c.New));
            if (!old.SequenceEqual(upgraded))
                failures.Add($"{table} has\n{string.Join('\n', upgraded)}\ninstead of\n{string.Join('\n', old)}");
        }
        Assert.True(failures.Count == 0, $"{database}: {string.Join("\n", failures)}");
    }

    static async Task<List<string>> ColumnAsync(DbConnection c, string sql)
    {
        await using var command = c.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync()) values.Add(reader.GetString(0));
        return values;
    }

    static async Task<List<string>> ColumnsAsync(DbConnection c, string table)
    {
        await using var command = c.CreateCommand();
        command.CommandText = $"SELECT * FROM {Quote(c, table)} WHERE 1 = 0";
        await using var reader = await command.ExecuteReaderAsync();
        return [.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetName)];
    }

    /// <summary>The table's rows as text, in one order.</summary>
    static async Task<List<string>> RowsAsync(DbConnection c, string table, IEnumerable<string> columns)
    {
        await using var command = c.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", columns.Select(col => Quote(c, col)))} FROM {Quote(c, table)}";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    static string Quote(DbConnection c, string name) => c is SqliteConnection ? $"\"{name}\"" : $"`{name}`";

    /// <summary>What the fixture's make.sh made, read back through the real openstack CLI from the upgraded node.</summary>
    static async Task AssertServedAsync(StratusNode node, string images)
    {
        async Task<string> Os(params string[] args) => (await node.OpenStackAsync(args)).Stdout;
        // Identity: the user logs in with the password the old release hashed; names now match without case.
        var user = new Dictionary<string, string>(node.AdminEnv())
        {
            ["OS_USERNAME"] = "FIXTURE-user",
            ["OS_PASSWORD"] = "user-Pa55",
            ["OS_PROJECT_NAME"] = "fixture-project",
        };
        (await ProcessRunner.RunAsync("openstack", ["token", "issue"], user)).EnsureSuccess("token issue as fixture-user");
        Assert.Contains("fixture", await Os("project", "show", "fixture-project", "-f", "value", "-c", "tags"));
        Assert.Contains("other-user", await Os("user", "list", "--domain", "fixture-domain", "-f", "value", "-c", "Name"));
        Assert.Contains("fixture-user", await Os("group", "contains", "user", "fixture-group", "fixture-user"));
        Assert.Contains("fixture-consumer", await Os("consumer", "list", "-f", "value", "-c", "Description"));
        // Image: the data the old release stored, under its checksum.
        var id = (await Os("image", "show", "fixture-image", "-f", "value", "-c", "id")).Trim();
        var saved = Path.Combine(NodeDir, "saved.img");
        await Os("image", "save", "--file", saved, id);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(images, id)), await File.ReadAllBytesAsync(saved));
        Assert.Contains("'os_distro': 'debian'", await Os("image", "show", id, "-f", "value", "-c", "properties"));
        // Compute: the flavor with its extra spec, the key pair, the servers with their addresses from the old info cache.
        // The fake driver's guests did not outlive its process: the running one turns SHUTOFF once the power states are synced.
        Assert.Contains("'hw:cpu_policy': 'shared'", await Os("flavor", "show", "fixture-flavor", "-f", "value", "-c", "properties"));
        Assert.Contains("fixture-key", await Os("keypair", "list", "-f", "value", "-c", "Name"));
        var servers = (await Os("server", "list", "--all-projects", "-f", "value", "-c", "Name", "-c", "Status", "-c", "Networks", "-c", "Flavor")).Split('\n');
        Assert.Contains(servers, s => s.StartsWith("fixture-server-2 SHUTOFF {'fixture-net': ['10.90.0.", StringComparison.Ordinal) && s.EndsWith(" fixture-flavor", StringComparison.Ordinal));
        Assert.Contains(servers, s => s.StartsWith("fixture-server-1 ", StringComparison.Ordinal) && s.Contains("{'fixture-net': ['10.90.0.", StringComparison.Ordinal));
        // Network: the network, its subnet and port, the router's interface, the security group's rule.
        Assert.Contains("10.90.0.0/24", await Os("subnet", "show", "fixture-subnet", "-f", "value", "-c", "cidr"));
        Assert.Contains("fixture-port", await Os("port", "list", "--network", "fixture-net", "-f", "value", "-c", "Name"));
        Assert.Contains("10.90.0.1", await Os("router", "show", "fixture-router", "-f", "value", "-c", "interfaces_info"));
        Assert.Contains("22:22", await Os("security", "group", "rule", "list", "fixture-sg", "-f", "value", "-c", "Port Range"));
    }
}
