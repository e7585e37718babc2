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
}
