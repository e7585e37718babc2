using System.Security.Cryptography;
using Stratus.Acceptance.Tests.Infrastructure;

namespace Stratus.Acceptance.Tests;

/// <summary>
/// The seed from start to end (sections 3 to 5) with the real <c>openstack</c> CLI: two independent clouds made by
/// <c>node init</c>, each running as its own <c>node start</c>; <c>region join</c> makes the second one RegionTwo of the
/// first's identity; then the seed's checks; a second join changes nothing; <c>region leave</c> gives the cloud back.
/// </summary>
public sealed class RegionJoinTests
{
    [Fact]
    public async Task Region_join_makes_an_independent_cloud_RegionTwo_and_leave_undoes_it()
    {
        await using var one = new StratusNode();
        await one.InitializeAsync();
        await using var two = new StratusNode();
        await two.InitializeAsync();
        var identity = $"http://{one.Address}:5000";
        var glanceConf = Path.Combine(two.ConfigDir, "glance", "glance-api.conf");
        await File.AppendAllTextAsync(glanceConf, "# an operator's note, kept by the join\n");
        // What the second cloud's own identity holds, which the shared one does not receive: the join reports it.
        await two.OpenStackAsync("project", "create", "team-b");
        var r1 = one.AdminEnv();
        async Task<string> Os(IDictionary<string, string> env, params string[] args) =>
            (await ProcessRunner.RunAsync("openstack", args, env)).EnsureSuccess("openstack " + string.Join(' ', args)).Stdout.Trim();
        string[] join = ["region", "join", "--config-dir", two.ConfigDir, "--identity", identity, "--region", "RegionTwo", "--admin-password", StratusNode.Password];

        // --dry-run: each file's change as a unified diff and the identity calls, without secrets; nothing changes.
        var before = Snapshot(two.ConfigDir);
        var plan = (await ProcessRunner.RunAsync(ProcessRunner.Stratus, [.. join, "--dry-run"])).EnsureSuccess("region join --dry-run").Stdout;
        Assert.Contains("--- a/glance/glance-api.conf", plan);
        Assert.Contains("-username = glance\n+username = glance-RegionTwo", plan);
        Assert.Contains($"+auth_url = {identity}\n", plan);
        Assert.Contains("-os_region_name = RegionOne\n+os_region_name = RegionTwo", plan);
        Assert.Contains($"POST {identity}/v3/regions {{\"region\":{{\"id\":\"RegionTwo\"}}}}", plan);
        Assert.Contains("team-b", plan);
        Assert.DoesNotContain(StratusNode.Password, plan);
        Assert.Equal(before, Snapshot(two.ConfigDir));
        Assert.Equal("RegionOne", await Os(r1, "region", "list", "-f", "value", "-c", "Region"));

        var joined = (await ProcessRunner.RunAsync(ProcessRunner.Stratus, join)).EnsureSuccess("region join").Stdout;
        Assert.Contains("team-b", joined);
        Assert.Contains("SIGHUP", joined);
        Assert.EndsWith("# an operator's note, kept by the join\n", await File.ReadAllTextAsync(glanceConf));
        Assert.Contains("username = glance-RegionTwo", await File.ReadAllTextAsync(glanceConf));

        // Seed 4.1: both regions, identity endpoints in RegionTwo, RegionTwo's services at its own address.
        var r2 = one.AdminEnv("RegionTwo");
        Assert.Equal(["RegionOne", "RegionTwo"], (await Os(r1, "region", "list", "-f", "value", "-c", "Region")).Split('\n').Order());
        Assert.Equal(3, (await Os(r1, "endpoint", "list", "--service", "identity", "--region", "RegionTwo", "-f", "value", "-c", "URL"))
            .Split('\n').Count(u => u == identity + "/v3/"));
        var endpoints = (await Os(r1, "endpoint", "list", "--region", "RegionTwo", "--interface", "public", "-f", "value", "-c", "Service Type", "-c", "URL")).Split('\n');
        foreach (var type in new[] { "image", "network", "compute", "placement", "volumev2", "volumev3" })
            Assert.Contains(endpoints, e => e.StartsWith(type + " http://" + two.Address + ":", StringComparison.Ordinal));
        Assert.Contains("glance-RegionTwo", await Os(r1, "user", "list", "-f", "value", "-c", "Name"));

        // Seed 5.1-5.4 once RegionTwo's services have restarted on the shared identity.
        string Logs() => $"--- RegionTwo's node\n{two.Output}";
        Task<string> EventuallyAsync(string what, Func<string, bool> done, params string[] args) => StratusNode.EventuallyAsync(r2, what, done, Logs, args);
        await EventuallyAsync("compute services", s => s.Contains("nova-compute") && !s.Contains("down"),
            "compute", "service", "list", "-f", "value", "-c", "Binary", "-c", "State");
        await EventuallyAsync("volume services", s => s.Contains("cinder-volume") && !s.Contains("down"),
            "volume", "service", "list", "-f", "value", "-c", "Binary", "-c", "State");
        await EventuallyAsync("network agents", s => s.Contains("Linux bridge agent True") && !s.Contains("False"),
            "network", "agent", "list", "-f", "value", "-c", "Agent Type", "-c", "Alive");
        Assert.Equal("", await Os(r2, "server", "list", "-f", "value"));
        var imageFile = Path.Combine(two.ConfigDir, "r2.img");
        await File.WriteAllBytesAsync(imageFile, new byte[4096]);
        await Os(r2, "image", "create", "cirrosr2", "--file", imageFile, "--disk-format", "raw", "--container-format", "bare", "--public");
        Assert.Equal("cirrosr2", await Os(r2, "image", "list", "-f", "value", "-c", "Name"));
        Assert.Equal("", await Os(r1, "image", "list", "-f", "value", "-c", "Name"));

        // A second join finds nothing to change in the files.
        var afterJoin = Snapshot(two.ConfigDir);
        (await ProcessRunner.RunAsync(ProcessRunner.Stratus, join)).EnsureSuccess("second region join");
        Assert.Equal(afterJoin, Snapshot(two.ConfigDir));

        // Leave: RegionTwo out of the shared catalog and its users gone; the cloud its own again, with its project.
        (await ProcessRunner.RunAsync(ProcessRunner.Stratus, ["region", "leave", "--config-dir", two.ConfigDir])).EnsureSuccess("region leave");
        Assert.Equal("RegionOne", await Os(r1, "region", "list", "-f", "value", "-c", "Region"));
        Assert.DoesNotContain("glance-RegionTwo", await Os(r1, "user", "list", "-f", "value", "-c", "Name"));
        Assert.DoesNotContain("RegionTwo", await File.ReadAllTextAsync(glanceConf));
        var own = two.AdminEnv();
        string projects = "";
        for (var i = 0; i < 120 && !projects.Contains("team-b"); i++)
        {
            projects = (await ProcessRunner.RunAsync("openstack", ["project", "list", "-f", "value", "-c", "Name"], own)).Stdout;
            if (!projects.Contains("team-b")) await Task.Delay(500);
        }
        Assert.Contains("team-b", projects);
    }

    /// <summary>Every config file of a node (not its databases) and its content's hash.</summary>
    static string Snapshot(string dir) => string.Join('\n', Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
        .Where(f => !f.Contains("/.region-join/") && (f.EndsWith(".conf") || f.EndsWith(".ini") || f.EndsWith("local_settings") || f.EndsWith("admin-openrc")))
        .Order(StringComparer.Ordinal)
        .Select(f => f + " " + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))));
}
