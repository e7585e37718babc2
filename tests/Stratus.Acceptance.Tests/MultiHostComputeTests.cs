using System.Text.Json.Nodes;
using Stratus.Acceptance.Tests.Infrastructure;
using Stratus.Core.Tests.Messaging;

namespace Stratus.Acceptance.Tests;

/// <summary>
/// The seed's RegionTwo shape on two hosts: a controller (identity, image, placement, nova-api,
/// scheduler, conductor) and a compute node in processes of their own, talking over a real RabbitMQ
/// (Debian's rabbitmq-server), as <c>transport_url = rabbit://...</c> says. The compute node uses the
/// fake driver with a slow spawn, so that it can be killed in the middle of a build.
/// </summary>
public sealed class MultiHostComputeTests(RabbitMqBroker broker) : IClassFixture<RabbitMqBroker>
{
    [Fact]
    public async Task A_compute_node_builds_over_RabbitMQ_and_a_host_killed_mid_build_leaves_nothing_stuck()
    {
        await using var controller = StratusNode.Custom("RegionOne", null,
            ["--role", "controller", "--host", "controller", "--transport-url", broker.Url], n =>
            {
                n.SetConfig("nova/nova.conf", "DEFAULT", "report_interval", "1");
                n.SetConfig("nova/nova.conf", "DEFAULT", "service_down_time", "5");
            });
        await controller.InitializeAsync();
        await using var compute = StratusNode.Custom("RegionOne", controller.AuthUrl,
            ["--role", "compute", "--host", "compute1", "--controller", controller.Address, "--transport-url", broker.Url], n =>
            {
                n.SetConfig("nova/nova.conf", "DEFAULT", "compute_driver", "fake.FakeDriver");
                n.SetConfig("nova/nova.conf", "DEFAULT", "report_interval", "1");
                // Long enough for the CLI polls below (seconds each on a busy machine) to see vm2 spawning.
                n.SetConfig("nova/nova.conf", "stratus", "fake_spawn_seconds", "15");
            });
        await compute.InitializeAsync();
        Assert.DoesNotContain("identity:", compute.Output);
        Assert.Contains("compute: nova-compute as compute1", compute.Output);

        var env = controller.AdminEnv();
        env["OS_COMPUTE_API_VERSION"] = "2.37";
        async Task<string> Os(params string[] args) =>
            (await ProcessRunner.RunAsync("openstack", args, env)).EnsureSuccess("openstack " + string.Join(' ', args)).Stdout.Trim();
        async Task<string> WaitForAsync(Func<Task<string>> read, Func<string, bool> done, string what)
        {
            var now = "";
            for (var i = 0; i < 90 && !done(now = await read()); i++) await Task.Delay(500);
            Assert.True(done(now), $"{what}: still {now}\n--- controller\n{controller.Output}\n--- compute\n{compute.Output}");
            return now;
        }
        Task<string> Services() => Os("compute", "service", "list", "-f", "value", "-c", "Binary", "-c", "Host", "-c", "State");
        await WaitForAsync(Services, s => s.Contains("nova-compute compute1 up", StringComparison.Ordinal), "compute1 in the service list");

        var imageFile = Path.Combine(controller.ConfigDir, "disk.img");
        await File.WriteAllBytesAsync(imageFile, new byte[64 * 1024]);
        await Os("image", "create", "img", "--file", imageFile, "--disk-format", "raw", "--container-format", "bare", "--public");
        await Os("flavor", "create", "f1", "--ram", "64", "--disk", "1", "--vcpus", "1");

        // A build on the other host, over the broker.
        var vm1 = await Os("server", "create", "vm1", "--flavor", "f1", "--image", "img", "--nic", "none", "--wait",
            "-f", "value", "-c", "status", "-c", "OS-EXT-SRV-ATTR:host");
        Assert.Equal("compute1\nACTIVE", vm1);

        // The host dies while it spawns vm2: the conductor sees it stop heartbeating, and vm2 goes to
        // ERROR with a fault that says why, its claim released, instead of staying in BUILD.
        await Os("server", "create", "vm2", "--flavor", "f1", "--image", "img", "--nic", "none");
        await WaitForAsync(() => Os("server", "show", "vm2", "-f", "value", "-c", "OS-EXT-STS:task_state"), t => t == "spawning", "vm2 spawning");
        compute.Kill();
        await WaitForAsync(Services, s => s.Contains("nova-compute compute1 down", StringComparison.Ordinal), "compute1 down");
        await WaitForAsync(() => Os("server", "show", "vm2", "-f", "value", "-c", "status"), s => s == "ERROR", "vm2 in ERROR");
        var fault = JsonNode.Parse(await Os("server", "show", "vm2", "-f", "json", "-c", "fault"))!["fault"]!;
        Assert.Contains("compute1 went down during the build", (string?)fault["message"]);

        using var placement = await PlacementAsync(controller, env);
        var provider = await ProviderAsync(placement, "compute1");
        Assert.Equal(1, (int)(await UsagesAsync(placement, provider))["VCPU"]!);

        // Back up, the agent reconciles: the fake hypervisor lost vm1 with the process, so vm1 is SHUTOFF.
        await compute.StartAsync();
        await WaitForAsync(Services, s => s.Contains("nova-compute compute1 up", StringComparison.Ordinal), "compute1 up again");
        await WaitForAsync(() => Os("server", "show", "vm1", "-f", "value", "-c", "status"), s => s == "SHUTOFF", "vm1 reconciled");

        await Os("server", "delete", "vm1", "vm2", "--wait");
        Assert.Equal("", await Os("server", "list", "-f", "value"));
        Assert.All((await UsagesAsync(placement, provider)).AsObject(), u => Assert.Equal(0, (int)u.Value!));
    }

    static async Task<HttpClient> PlacementAsync(StratusNode controller, Dictionary<string, string> env)
    {
        var token = (await ProcessRunner.RunAsync("openstack", ["token", "issue", "-f", "value", "-c", "id"], env)).EnsureSuccess("token issue").Stdout.Trim();
        var http = new HttpClient { BaseAddress = new Uri($"http://{controller.Address}:8778/") };
        http.DefaultRequestHeaders.Add("X-Auth-Token", token);
        http.DefaultRequestHeaders.Add("OpenStack-API-Version", "placement 1.39");
        return http;
    }

    static async Task<string> ProviderAsync(HttpClient placement, string name)
    {
        var providers = JsonNode.Parse(await placement.GetStringAsync($"resource_providers?name={name}"))!["resource_providers"]!.AsArray();
        return (string)Assert.Single(providers)!["uuid"]!;
    }

    static async Task<JsonNode> UsagesAsync(HttpClient placement, string provider) =>
        JsonNode.Parse(await placement.GetStringAsync($"resource_providers/{provider}/usages"))!["usages"]!;
}
