using Stratus.Core.Data;

namespace Stratus.Acceptance.Tests;

/// <summary><c>./stratus</c> itself: help on every verb, and errors that name what was wrong and what exists.</summary>
public sealed class CliTests
{
    static Task<ProcessRunner.Result> Stratus(params string[] args) => ProcessRunner.RunAsync(ProcessRunner.Stratus, args);

    [Theory]
    [InlineData(new[] { "--help" }, "node", "keystone-manage")]
    [InlineData(new[] { "up", "--help" }, "--data", "--region-two-address")]
    [InlineData(new[] { "node", "init", "--help" }, "--config-dir", "--role <all|compute|controller>")]
    [InlineData(new[] { "node", "start", "--help" }, "--config-dir", "SIGHUP")]
    [InlineData(new[] { "doctor", "--help" }, "--config-dir", "--json")]
    [InlineData(new[] { "region", "join", "--help" }, "--dry-run", "--shared-service-users")]
    [InlineData(new[] { "region", "leave", "--help" }, "--config-dir", "--admin-password")]
    [InlineData(new[] { "node", "install-units", "--help" }, "--config-dir", "--output")]
    [InlineData(new[] { "nova-manage", "api_db", "sync", "--help" }, "--config-dir", "--config-file")]
    [InlineData(new[] { "keystone-manage", "bootstrap", "--help" }, "--bootstrap-password", "--config-dir")]
    [InlineData(new[] { "test-image", "--help" }, "--output", "--cache-dir")]
    [InlineData(new[] { "help" }, "openrc", "test-image")]
    [InlineData(new[] { "help", "node", "start" }, "--config-dir", "SIGHUP")]
    public async Task Every_verb_has_help(string[] args, string first, string second)
    {
        var r = await Stratus(args);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(first, r.Stdout);
        Assert.Contains(second, r.Stdout);
    }

    [Fact]
    public async Task An_unknown_verb_or_option_is_named_with_what_exists()
    {
        var verb = await Stratus("nod", "init");
        Assert.NotEqual(0, verb.ExitCode);
        // The suggestion and the list of verbs go with the help on stdout, the error on stderr.
        Assert.Contains("'nod' was not matched. Did you mean one of the following?\nnode", verb.Stdout);
        Assert.Contains("keystone-manage", verb.Stdout);
        Assert.Contains("Unrecognized command or argument 'nod'.", verb.Stderr);

        var option = await Stratus("node", "init", "--config-dir", "/nonexistent", "--regoin", "R", "--address", "127.0.0.1", "--password", "p");
        Assert.NotEqual(0, option.ExitCode);
        Assert.Contains("'--regoin' was not matched. Did you mean one of the following?\n--region", option.Stdout);
        Assert.Contains("Option '--region' is required.", option.Stderr);
        Assert.False(Directory.Exists("/nonexistent"));
    }

    [Fact]
    public async Task Bad_values_are_refused_before_anything_is_written()
    {
        var dir = Path.Combine(Path.GetTempPath(), "stratus-cli-" + Guid.NewGuid().ToString("N"));
        var role = await Stratus("node", "init", "--config-dir", dir, "--region", "R", "--address", "127.0.0.1", "--password", "p", "--role", "storage");
        Assert.NotEqual(0, role.ExitCode);
        Assert.Contains("Argument 'storage' not recognized. Must be one of:", role.Stderr);
        var address = await Stratus("node", "init", "--config-dir", dir, "--region", "R", "--address", "127.1", "--password", "p");
        Assert.Equal(2, address.ExitCode);
        Assert.Contains("--address '127.1' is not an IP address", address.Stderr);
        var port = await Stratus("up", "--data", dir, "--dashboard-port", "70000");
        Assert.NotEqual(0, port.ExitCode);
        Assert.Contains("--dashboard-port '70000' is not a TCP port", port.Stderr);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public async Task Openrc_prints_a_nodes_credentials_for_the_region_asked_and_status_fails_while_it_is_down()
    {
        var dir = Directory.CreateTempSubdirectory("stratus-openrc-").FullName;
        try
        {
            var missing = await Stratus("openrc", "--config-dir", dir);
            Assert.Equal(2, missing.ExitCode);
            Assert.Contains($"no admin-openrc in {dir}", missing.Stderr);

            (await Stratus("node", "init", "--config-dir", dir, "--region", "RegionOne", "--address", "127.88.1.1", "--password", "pw-1")).EnsureSuccess("node init");
            var own = (await Stratus("openrc", "--config-dir", dir)).EnsureSuccess("openrc").Stdout;
            Assert.Contains("export OS_REGION_NAME=RegionOne\n", own);
            Assert.Contains("export OS_PASSWORD=pw-1\n", own);
            Assert.Contains("export OS_AUTH_URL=http://127.88.1.1:5000/v3\n", own);
            var two = (await Stratus("openrc", "--config-dir", dir, "--region", "RegionTwo")).EnsureSuccess("openrc --region").Stdout;
            Assert.Equal(own.Replace("OS_REGION_NAME=RegionOne", "OS_REGION_NAME=RegionTwo", StringComparison.Ordinal), two);

            // The node is not running: status says its identity does not answer, and fails.
            var status = await Stratus("status", "--config-dir", dir);
            Assert.Equal(1, status.ExitCode);
            Assert.Contains("stratus: status: the identity at http://127.88.1.1:5000/v3 refused or did not answer", status.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("glance/glance.db", new[] { "glance-manage", "--config-dir", "{dir}/glance", "db_sync" })]
    [InlineData("glance/glance.db", new[] { "glance-manage", "--config-file", "{dir}/glance/glance-api.conf", "db", "sync" })]
    [InlineData("nova/nova_api.db", new[] { "nova-manage", "--config-dir", "{dir}", "api_db", "sync" })]
    [InlineData("nova/nova.db", new[] { "nova-manage", "--config-dir", "{dir}/nova", "db", "sync" })]
    [InlineData("placement/placement.db", new[] { "placement-manage", "--config-dir", "{dir}/placement", "db", "sync" })]
    [InlineData("cinder/cinder.db", new[] { "cinder-manage", "--config-dir", "{dir}/cinder", "db", "sync" })]
    [InlineData("neutron/neutron.db", new[] { "neutron-db-manage", "--config-file", "{dir}/neutron/neutron.conf",
        "--config-file", "{dir}/neutron/plugins/ml2/ml2_conf.ini", "upgrade", "heads" })]
    public async Task The_manage_tools_create_a_services_schema(string database, string[] args)
    {
        var dir = Directory.CreateTempSubdirectory("stratus-manage-").FullName;
        try
        {
            (await Stratus("node", "init", "--config-dir", dir, "--region", "RegionOne", "--address", "127.88.1.2", "--password", "pw-1")).EnsureSuccess("node init");
            var path = Path.Combine(dir, database);
            Assert.True(File.Exists(path));
            File.Delete(path);
            var command = args.Select(a => a.Replace("{dir}", dir, StringComparison.Ordinal)).ToArray();
            (await Stratus(command)).EnsureSuccess(string.Join(' ', args));
            Assert.True(new FileInfo(path).Length > 0, $"{database} was not made again");
            // Again on a database that has its schema: nothing to do, no error.
            (await Stratus(command)).EnsureSuccess(string.Join(' ', args) + " (again)");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_manage_tool_without_its_config_says_where_it_looked()
    {
        var r = await Stratus("cinder-manage", "--config-dir", "/nonexistent", "db", "sync");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no cinder.conf in /nonexistent", r.Stderr);
    }

    [Fact]
    public async Task Install_units_writes_a_systemd_unit_that_systemd_accepts()
    {
        var dir = Directory.CreateTempSubdirectory("stratus-units-").FullName;
        var node = Path.Combine(dir, "regiontwo compute");
        var units = Path.Combine(dir, "units");
        try
        {
            var none = await Stratus("node", "install-units", "--config-dir", node, "--output", units);
            Assert.Equal(2, none.ExitCode);
            Assert.Contains("no service is configured", none.Stderr);

            (await Stratus("node", "init", "--config-dir", node, "--region", "RegionTwo", "--address", "127.88.1.3", "--password", "pw-1",
                "--role", "compute", "--identity-url", "http://127.88.1.4:5000/v3", "--controller", "127.88.1.4")).EnsureSuccess("node init");
            (await Stratus("node", "install-units", "--config-dir", node, "--output", units)).EnsureSuccess("install-units");
            var unit = Path.Combine(units, "stratus-node-regiontwo-compute.service");
            var text = await File.ReadAllTextAsync(unit);
            // One argument, though the path has a space.
            Assert.Contains($"/stratus\" node start --config-dir \"{node}\"\n", text);
            Assert.Contains("(compute, network)", text);
            Assert.Contains("Restart=on-failure\n", text);
            Assert.Contains("ExecReload=/bin/kill -HUP $MAINPID\n", text);
            Assert.Contains("StandardOutput=journal\n", text);
            var verify = await ProcessRunner.RunAsync("systemd-analyze", ["verify", unit]);
            Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Node_start_refuses_a_database_a_newer_Stratus_synced()
    {
        var dir = Directory.CreateTempSubdirectory("stratus-newer-").FullName;
        try
        {
            (await Stratus("node", "init", "--config-dir", dir, "--region", "RegionOne", "--address", "127.88.1.5", "--password", "pw-1")).EnsureSuccess("node init");
            var glance = Path.Combine(dir, "glance", "glance.db");
            await SchemaVersion.StampAsync(DatabaseUrl.Parse("sqlite:///" + glance), 99);
            var start = await Stratus("node", "start", "--config-dir", dir);
            Assert.Equal(1, start.ExitCode);
            Assert.Contains($"stratus: the Sqlite database {glance} has schema version 99, newer than this Stratus knows", start.Stderr);
            var sync = await Stratus("glance-manage", "--config-dir", dir, "db_sync");
            Assert.Equal(1, sync.ExitCode);
            Assert.Contains("schema version 99", sync.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
