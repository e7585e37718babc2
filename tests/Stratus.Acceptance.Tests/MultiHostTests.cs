using System.Diagnostics;
using Stratus.Acceptance.Tests.Infrastructure;
using Stratus.Core.Tests.Messaging;
using Xunit.Abstractions;

namespace Stratus.Acceptance.Tests;

/// <summary>
/// The seed's multi-host layout on one machine (issue 13): three nodes as separate <c>node start</c> processes on
/// addresses of their own, RegionOne's node on PostgreSQL, RegionTwo's controller on MariaDB, RegionTwo's controller
/// and compute node talking over RabbitMQ, every service's token validations cached in memcached, all of them Debian's
/// real servers started by hand; RegionTwo made by <c>region join</c>. Then the checks <c>./stratus up</c> passes.
/// </summary>
public sealed class MultiHostTests(ITestOutputHelper output) : IAsyncLifetime
{
    // Addresses of this class's own (nothing else uses 127.88), so that a developer's cloud or another test does not collide.
    static readonly string Net = $"127.88.{Environment.ProcessId % 200 + 1}";

    /// <summary>Every database a node's files name, by file, section and the database a service gets.</summary>
    static readonly (string File, string Section, string Database)[] Connections =
    [
        ("keystone/keystone.conf", "database", "keystone"),
        ("glance/glance-api.conf", "database", "glance"),
        ("glance/glance-registry.conf", "database", "glance"),
        ("nova/nova.conf", "api_database", "nova_api"),
        ("nova/nova.conf", "database", "nova"),
        ("placement/placement.conf", "placement_database", "placement"),
        ("cinder/cinder.conf", "database", "cinder"),
        ("neutron/neutron.conf", "database", "neutron"),
    ];

    readonly RabbitMqBroker _broker = new();
    Task _brokerStarted = Task.CompletedTask;
    PostgresServer? _postgres;
    MariaDbServer? _mariadb;
    MemcachedServer? _memcached;

    public async Task InitializeAsync()
    {
        // RabbitMQ takes the longest to start: the other servers start meanwhile.
        _brokerStarted = _broker.InitializeAsync();
        try
        {
            _postgres = await PostgresServer.StartAsync();
            _mariadb = await MariaDbServer.StartAsync();
            _memcached = await MemcachedServer.StartAsync();
            await _brokerStarted;
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        // Started or not, before it is stopped.
        await _brokerStarted.ContinueWith(_ => { }, TaskScheduler.Default);
        await _broker.DisposeAsync();
        foreach (var server in new IAsyncDisposable?[] { _postgres, _mariadb, _memcached }) if (server is not null) await server.DisposeAsync();
    }

    [Fact]
    public async Task Three_nodes_on_PostgreSQL_MariaDB_RabbitMQ_and_memcached_join_into_two_regions()
    {
        var clock = Stopwatch.StartNew();
        var (postgres, mariadb, memcached, broker) = (_postgres!, _mariadb!, _memcached!, _broker);
        // RegionOne: one node with every service and the identity both regions will share, on PostgreSQL.
        await using var a = StratusNode.Custom("RegionOne", null, ["--role", "all", "--host", "nodea"], address: $"{Net}.11");
        // RegionTwo-to-be: an independent cloud of its own (its own identity), on MariaDB, its compute node on another host.
        await using var b = StratusNode.Custom("RegionOne", null, ["--role", "controller", "--host", "controller", "--transport-url", broker.Url],
            address: $"{Net}.12");
        await using var c = StratusNode.Custom("RegionOne", b.AuthUrl,
            ["--role", "compute", "--host", "compute1", "--controller", b.Address, "--transport-url", broker.Url], address: $"{Net}.13");
        // The bootable test image, made while the nodes come up (from Debian's packages, cached between runs).
        var testImage = Path.Combine(b.ConfigDir, "test.qcow2");
        var imageBuilt = ProcessRunner.RunAsync(ProcessRunner.Stratus, ["test-image", "--output", testImage], timeout: TimeSpan.FromMinutes(5));
        try
        {
            await Task.WhenAll(MoveAsync(a, postgres, memcached), MoveAsync(b, mariadb, memcached));
            // RegionTwo's agents report every 2 s and count as dead after 10 s (Neutron: 30 s and 75 s), for the end of the test.
            b.SetConfig("neutron/neutron.conf", "DEFAULT", "agent_down_time", "10");
            b.SetConfig("neutron/neutron.conf", "agent", "report_interval", "2");
            await Task.WhenAll(a.StartAsync(), b.StartAsync());
            await c.InitAsync();
            UseMemcached(c, memcached);
            c.SetConfig("neutron/neutron.conf", "agent", "report_interval", "2");
            await c.StartAsync();
            var sinceStart = clock.Elapsed;

            var identity = $"http://{a.Address}:5000";
            foreach (var node in new[] { b, c })
                (await ProcessRunner.RunAsync(ProcessRunner.Stratus, ["region", "join", "--config-dir", node.ConfigDir, "--identity", identity, "--region", "RegionTwo",
                    "--admin-password", StratusNode.Password])).EnsureSuccess("region join " + node.Address);

            var r1 = a.AdminEnv();
            var r2 = a.AdminEnv("RegionTwo");
            async Task<string> Os(IDictionary<string, string> env, params string[] args) =>
                (await ProcessRunner.RunAsync("openstack", args, env)).EnsureSuccess("openstack " + string.Join(' ', args)).Stdout.Trim();
            string Logs() => $"\n--- node A\n{a.Output}\n--- node B\n{b.Output}\n--- node C\n{c.Output}";

            // Seed 4.1: both regions, the identity endpoints in RegionTwo, RegionTwo's services at its controller's address.
            Assert.Equal(["RegionOne", "RegionTwo"], (await Os(r1, "region", "list", "-f", "value", "-c", "Region")).Split('\n').Order());
            Assert.Equal(3, (await Os(r1, "endpoint", "list", "--service", "identity", "--region", "RegionTwo", "-f", "value", "-c", "URL"))
                .Split('\n').Count(u => u == identity + "/v3/"));
            var endpoints = (await Os(r1, "endpoint", "list", "--region", "RegionTwo", "--interface", "public", "-f", "value", "-c", "Service Type", "-c", "URL")).Split('\n');
            foreach (var type in new[] { "image", "network", "compute", "placement", "volumev2", "volumev3" })
                Assert.Contains(endpoints, e => e.StartsWith($"{type} http://{b.Address}:", StringComparison.Ordinal));
            Assert.DoesNotContain(endpoints, e => e.Contains(c.Address, StringComparison.Ordinal));

            // Seed 5: RegionTwo's services and agents report up once both nodes have restarted on the shared identity,
            // nova-compute and the Linux bridge agent from the compute node over RabbitMQ.
            Task<string> EventuallyAsync(string what, Func<string, bool> done, params string[] args) => StratusNode.EventuallyAsync(r2, what, done, Logs, args);
            await EventuallyAsync("compute services", s => s.Contains("nova-compute compute1 up") && s.Contains("nova-conductor controller up")
                && s.Contains("nova-scheduler controller up") && !s.Contains("down"),
                "compute", "service", "list", "-f", "value", "-c", "Binary", "-c", "Host", "-c", "State");
            await EventuallyAsync("volume services", s => s.Contains("cinder-scheduler controller up") && s.Contains("cinder-volume controller@") && !s.Contains("down"),
                "volume", "service", "list", "-f", "value", "-c", "Binary", "-c", "Host", "-c", "State");
            await EventuallyAsync("network agents", s => s.Contains("Linux bridge agent compute1 True") && !s.Contains("False"),
                "network", "agent", "list", "-f", "value", "-c", "Agent Type", "-c", "Host", "-c", "Alive");
            var hypervisors = await Os(r2, "hypervisor", "list", "-f", "value", "-c", "Hypervisor Hostname");
            Assert.Equal("compute1", hypervisors);

            // Seed 5.1: an image in RegionTwo only, its row in RegionTwo's MariaDB; a project in the shared identity's PostgreSQL.
            var imageFile = Path.Combine(b.ConfigDir, "r2.img");
            await File.WriteAllBytesAsync(imageFile, System.Security.Cryptography.RandomNumberGenerator.GetBytes(64 * 1024));
            var imageId = await Os(r2, "image", "create", "cirros-r2", "--file", imageFile, "--disk-format", "raw", "--container-format", "bare", "--public",
                "-f", "value", "-c", "id");
            Assert.Equal("cirros-r2 active", await Os(r2, "image", "list", "-f", "value", "-c", "Name", "-c", "Status"));
            Assert.Equal("", await Os(r1, "image", "list", "-f", "value", "-c", "Name"));
            Assert.Equal($"{imageId} cirros-r2", (await mariadb.QueryAsync("glance", "SELECT Id, Name FROM images")).Trim().Replace('\t', ' '));
            Assert.Equal("", (await postgres.QueryAsync("glance", "SELECT \"Id\" FROM images")).Trim());
            var projectId = await Os(r1, "project", "create", "multihost-team", "-f", "value", "-c", "id");
            Assert.Equal(projectId, (await postgres.QueryAsync("keystone", "SELECT \"Id\" FROM project WHERE \"Name\" = 'multihost-team'")).Trim());
            // RegionTwo's controller had an identity of its own, on MariaDB: the shared identity's projects are not there.
            Assert.Equal("", (await mariadb.QueryAsync("keystone", "SELECT Id FROM project WHERE Name = 'multihost-team'")).Trim());

            // A real virtual machine (QEMU) boots on the compute node, scheduled by RegionTwo's controller over RabbitMQ; its
            // row is in RegionTwo's MariaDB, and RegionOne does not see it.
            (await imageBuilt).EnsureSuccess("stratus test-image");
            var boot = new Dictionary<string, string>(r2) { ["OS_COMPUTE_API_VERSION"] = "2.37" };
            await Os(boot, "image", "create", "testimg", "--file", testImage, "--disk-format", "qcow2", "--container-format", "bare", "--public");
            await Os(boot, "flavor", "create", "m1.tiny", "--ram", "128", "--disk", "1", "--vcpus", "1");
            var created = await Os(boot, "server", "create", "vm1", "--flavor", "m1.tiny", "--image", "testimg", "--nic", "none", "--wait",
                "-f", "value", "-c", "id", "-c", "status", "-c", "OS-EXT-SRV-ATTR:host");
            Assert.True(created.Split('\n') is ["compute1", _, "ACTIVE"], created + Logs());
            var serverId = created.Split('\n')[1];
            var console = "";
            for (var i = 0; i < 120 && !console.Contains("login: stratus test image ready", StringComparison.Ordinal); i++)
            {
                await Task.Delay(500);
                console = await Os(boot, "console", "log", "show", "vm1");
            }
            Assert.Contains("login: stratus test image ready", console);
            Assert.Equal("compute1", (await mariadb.QueryAsync("nova", $"SELECT Host FROM instances WHERE Uuid = '{serverId}'")).Trim());
            Assert.Equal("", await Os(r1, "server", "list", "-f", "value", "-c", "Name"));
            await Os(boot, "server", "delete", "vm1", "--wait");
            Assert.Equal("", await Os(boot, "server", "list", "-f", "value"));

            // Every service of both controllers synced and stamped its database on its server; no node fell back to SQLite.
            foreach (var database in Connections.Select(x => x.Database).Distinct())
            {
                Assert.Equal("1", (await postgres.QueryAsync(database, "SELECT COUNT(*) FROM stratus_schema")).Trim());
                Assert.Equal("1", (await mariadb.QueryAsync(database, "SELECT COUNT(*) FROM stratus_schema")).Trim());
            }
            foreach (var node in new[] { a, b, c })
                Assert.Empty(Directory.EnumerateFiles(node.ConfigDir, "*.db", SearchOption.AllDirectories));

            // The services cached the token validations of all these calls in memcached, as memcached_servers says.
            var stats = await memcached.StatsAsync();
            Assert.True(stats["cmd_set"] > 0 && stats["get_hits"] > 0, $"memcached: {string.Join(", ", stats.Where(s => s.Key.StartsWith("cmd_") || s.Key.StartsWith("get_")))}");

            // doctor, given the three nodes' directories, finds nothing wrong.
            var doctor = await ProcessRunner.RunAsync(ProcessRunner.Stratus, ["doctor", "--config-dir", a.ConfigDir, "--config-dir", b.ConfigDir, "--config-dir", c.ConfigDir]);
            Assert.True(doctor.ExitCode == 0, $"doctor exited {doctor.ExitCode}:\n{doctor.Stdout}\n{doctor.Stderr}");
            Assert.Contains("doctor: no problem found (3 node(s)", doctor.Stdout);

            // Seed 6: the Linux bridge agent down on the compute host. doctor names it, with the seed's consequence.
            c.Kill();
            var problems = "";
            for (var i = 0; i < 60 && !problems.Contains("neutron-linuxbridge-agent on compute1", StringComparison.Ordinal); i++)
            {
                await Task.Delay(1000);
                doctor = await ProcessRunner.RunAsync(ProcessRunner.Stratus, ["doctor", "--config-dir", a.ConfigDir, "--config-dir", b.ConfigDir, "--json"]);
                problems = doctor.Stdout;
            }
            Assert.Equal(1, doctor.ExitCode);
            var agent = doctor.Json.AsArray().Select(p => p!.AsObject()).Single(p => ((string?)p["problem"])!.StartsWith("neutron-linuxbridge-agent on compute1", StringComparison.Ordinal));
            Assert.Equal("services compute1", $"{agent["check"]} {agent["host"]}");
            Assert.StartsWith("neutron-linuxbridge-agent on compute1 in RegionTwo is down (last report: ", (string?)agent["problem"]);
            Assert.EndsWith("until it reports, ports on compute1 fail to bind: PortBindingFailed", (string?)agent["fix"]);
            output.WriteLine($"multi-host: nodes serving after {sinceStart}, checks done after {clock.Elapsed}");
        }
        finally
        {
            // Done or not, before node B's directory, where it writes, goes.
            await imageBuilt.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// What an operator does to put a node made by <c>node init</c> on a database server: a database of its own for each
    /// service, every connection of the files pointed at it, the SQLite files of the first init taken away, then
    /// <c>node init</c> again, which keeps the files and syncs, bootstraps and registers in the new databases.
    /// </summary>
    static async Task MoveAsync(StratusNode node, DatabaseServer server, MemcachedServer memcached)
    {
        await node.InitAsync();
        var urls = new Dictionary<string, string>();
        foreach (var (file, section, database) in Connections)
        {
            if (!urls.TryGetValue(database, out var url)) urls[database] = url = await server.CreateDatabaseAsync(database, database, database + "-Pa55");
            node.SetConfig(file, section, "connection", url);
        }
        foreach (var db in Directory.EnumerateFiles(node.ConfigDir, "*.db*", SearchOption.AllDirectories)) File.Delete(db);
        UseMemcached(node, memcached);
        await node.InitAsync();
    }

    /// <summary>keystonemiddleware's <c>memcached_servers</c> in every <c>[keystone_authtoken]</c> of the node.</summary>
    static void UseMemcached(StratusNode node, MemcachedServer memcached)
    {
        foreach (var path in Directory.EnumerateFiles(node.ConfigDir, "*.conf", SearchOption.AllDirectories))
            if (File.ReadLines(path).Any(l => l.Trim() == "[keystone_authtoken]"))
                node.SetConfig(Path.GetRelativePath(node.ConfigDir, path), "keystone_authtoken", "memcached_servers", memcached.Address);
    }
}
