using System.Diagnostics;
using Stratus.Acceptance.Tests.Infrastructure;

namespace Stratus.Acceptance.Tests;

/// <summary><c>./stratus up</c>: the two-region cloud from one command, used as the seed uses it.</summary>
public sealed class UpTests : IAsyncLifetime
{
    const string Password = "up-Pa55word";
    readonly string _data = Directory.CreateTempSubdirectory("stratus-up-").FullName;
    // Addresses of their own, so a developer's running `./stratus up` does not collide with the test.
    readonly string _one = $"127.79.{Environment.ProcessId % 200 + 1}.72";
    readonly string _two = $"127.79.{Environment.ProcessId % 200 + 1}.73";
    readonly string _compute = $"127.79.{Environment.ProcessId % 200 + 1}.74";
    Process? _up;
    // What `up` printed, to show when it does not exit cleanly.
    readonly System.Collections.Concurrent.ConcurrentQueue<string> _upOutput = new();

    public Task InitializeAsync() => StartUpAsync();

    async Task StartUpAsync()
    {
        var psi = new ProcessStartInfo(ProcessRunner.Stratus) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "up", "--data", _data, "--region-one-address", _one, "--region-two-address", _two, "--region-two-compute-address", _compute,
            "--password", Password })
            psi.ArgumentList.Add(a);
        _up = Process.Start(psi)!;
        _up.OutputDataReceived += (_, e) => { if (e.Data is not null) _upOutput.Enqueue(e.Data); };
        _up.ErrorDataReceived += (_, e) => { if (e.Data is not null) _upOutput.Enqueue(e.Data); };
        _up.BeginOutputReadLine();
        _up.BeginErrorReadLine();
        using var http = new HttpClient();
        for (var i = 0; i < 600; i++)
        {
            Assert.False(_up.HasExited, "stratus up exited early");
            try
            {
                if ((await http.GetAsync($"http://{_one}:5000/v3")).IsSuccessStatusCode
                    && (await http.GetAsync($"http://{_two}:9292/versions")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("stratus up did not serve identity and images");
    }

    static Dictionary<string, string> Openrc(string path) =>
        File.ReadAllLines(path).Where(l => l.StartsWith("export ", StringComparison.Ordinal))
            .Select(l => l["export ".Length..].Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    [Fact]
    public async Task Both_regions_share_RegionOnes_identity()
    {
        var one = Openrc(Path.Combine(_data, "regionone", "admin-openrc"));
        var two = Openrc(Path.Combine(_data, "regiontwo", "admin-openrc"));
        Assert.Equal("RegionOne", one["OS_REGION_NAME"]);
        Assert.Equal("RegionTwo", two["OS_REGION_NAME"]);
        // Seed 4.2: RegionTwo's credentials authenticate against RegionOne's keystone.
        Assert.Equal($"http://{_one}:5000/v3", two["OS_AUTH_URL"]);
        Assert.Equal(one["OS_AUTH_URL"], two["OS_AUTH_URL"]);

        var regions = (await ProcessRunner.RunAsync("openstack", ["region", "list", "-f", "value", "-c", "Region"], two)).EnsureSuccess("region list");
        Assert.Equal(["RegionOne", "RegionTwo"], regions.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        // The seed's admin-openrc and admin-openrc-r2 at the top of the data directory, for the owner's eyes only, and openrc prints them.
        Assert.Equal(one, Openrc(Path.Combine(_data, "admin-openrc")));
        Assert.Equal(two, Openrc(Path.Combine(_data, "admin-openrc-r2")));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_data, "admin-openrc-r2")));
        var printed = (await ProcessRunner.RunAsync(ProcessRunner.Stratus, ["openrc", "--data", _data, "--region", "RegionTwo"])).EnsureSuccess("openrc");
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(_data, "admin-openrc-r2")), printed.Stdout);

        // status: every region's services and agents, up (once each has reported: the first heartbeats come as the services start).
        string[] expected =
        [
            @"RegionTwo compute nova-compute compute1 nova enabled up \S+",
            @"RegionTwo volume cinder-volume controller@file nova enabled up \S+",
            @"RegionTwo network neutron-linuxbridge-agent compute1 - enabled up \S+",
            $@"RegionOne identity http://{_one}:5000/v3 {_one}:5000 - - up -",
        ];
        var status = await ProcessRunner.RunAsync(ProcessRunner.Stratus, ["status", "--data", _data]);
        for (var i = 0; i < 60 && (status.ExitCode != 0 || !expected.All(e => System.Text.RegularExpressions.Regex.IsMatch(status.Stdout, e))); i++)
        {
            await Task.Delay(500);
            status = await ProcessRunner.RunAsync(ProcessRunner.Stratus, ["status", "--data", _data]);
        }
        status.EnsureSuccess("status");
        foreach (var e in expected) Assert.Matches(e, status.Stdout);
        Assert.DoesNotContain(" down ", status.Stdout);
        var endpoints = (await ProcessRunner.RunAsync("openstack", ["endpoint", "list", "--service", "identity", "-f", "value", "-c", "Region", "-c", "URL"], one))
            .EnsureSuccess("endpoint list");
        var lines = endpoints.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Count(l => l.StartsWith("RegionOne ", StringComparison.Ordinal)));
        Assert.Equal(3, lines.Count(l => l.StartsWith("RegionTwo ", StringComparison.Ordinal)));
        Assert.All(lines, l => Assert.EndsWith($"http://{_one}:5000/v3/", l));
    }

    [Fact]
    public async Task Images_live_in_the_region_they_were_uploaded_to()
    {
        // Seed 5.1: RegionOne's credentials, RegionTwo's image service, through the shared catalog.
        var env = Openrc(Path.Combine(_data, "regionone", "admin-openrc"));
        var file = Path.Combine(_data, "cirros.img");
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 5);
        await File.WriteAllBytesAsync(file, bytes);
        foreach (var region in new[] { "RegionOne", "RegionTwo" })
        {
            var name = "cirros-" + region.ToLowerInvariant();
            (await ProcessRunner.RunAsync("openstack", ["image", "create", name, "--file", file, "--disk-format", "qcow2", "--container-format", "bare",
                "--public", "--os-region-name", region], env)).EnsureSuccess("image create in " + region);
        }
        foreach (var (region, other) in new[] { ("RegionOne", "RegionTwo"), ("RegionTwo", "RegionOne") })
        {
            var list = (await ProcessRunner.RunAsync("openstack", ["image", "list", "-f", "value", "-c", "Name", "-c", "Status", "--os-region-name", region], env))
                .EnsureSuccess("image list in " + region);
            Assert.Contains($"cirros-{region.ToLowerInvariant()} active", list.Stdout);
            Assert.DoesNotContain($"cirros-{other.ToLowerInvariant()}", list.Stdout);
        }
        var show = (await ProcessRunner.RunAsync("openstack", ["image", "show", "cirros-regiontwo", "-f", "value", "-c", "checksum", "--os-region-name", "RegionTwo"], env))
            .EnsureSuccess("image show");
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(bytes)), show.Stdout.Trim());
        var saved = Path.Combine(_data, "saved.img");
        (await ProcessRunner.RunAsync("openstack", ["image", "save", "cirros-regiontwo", "--file", saved, "--os-region-name", "RegionTwo"], env)).EnsureSuccess("image save");
        Assert.Equal(bytes, await File.ReadAllBytesAsync(saved));
        Assert.NotEqual(0, (await ProcessRunner.RunAsync("openstack", ["image", "show", "cirros-regiontwo", "--os-region-name", "RegionOne"], env)).ExitCode);

        (await ProcessRunner.RunAsync("openstack", ["image", "set", "cirros-regiontwo", "--property", "os_distro=cirros", "--os-region-name", "RegionTwo"], env))
            .EnsureSuccess("image set --property");
        var props = (await ProcessRunner.RunAsync("openstack", ["image", "show", "cirros-regiontwo", "-f", "json", "--os-region-name", "RegionTwo"], env)).EnsureSuccess("image show");
        Assert.Contains("\"os_distro\": \"cirros\"", props.Stdout);

        // Sharing: a private image shared with another project (the seed's service project here).
        (await ProcessRunner.RunAsync("openstack", ["image", "create", "shared-r2", "--file", file, "--disk-format", "qcow2", "--container-format", "bare",
            "--shared", "--os-region-name", "RegionTwo"], env)).EnsureSuccess("image create --shared");
        var member = (await ProcessRunner.RunAsync("openstack", ["image", "add", "project", "shared-r2", "service", "-f", "value", "-c", "status", "--os-region-name", "RegionTwo"], env))
            .EnsureSuccess("image add project");
        Assert.Equal("pending", member.Stdout.Trim());
        var members = (await ProcessRunner.RunAsync("openstack", ["image", "member", "list", "shared-r2", "-f", "value", "--os-region-name", "RegionTwo"], env))
            .EnsureSuccess("image member list");
        Assert.Contains("pending", members.Stdout);

        foreach (var (name, region) in new[] { ("cirros-regionone", "RegionOne"), ("cirros-regiontwo", "RegionTwo"), ("shared-r2", "RegionTwo") })
            (await ProcessRunner.RunAsync("openstack", ["image", "delete", name, "--os-region-name", region], env)).EnsureSuccess("image delete " + name);
        var after = (await ProcessRunner.RunAsync("openstack", ["image", "list", "-f", "value", "--os-region-name", "RegionTwo"], env)).EnsureSuccess("image list");
        Assert.Equal("", after.Stdout.Trim());
        Assert.Empty(Directory.GetFiles(Path.Combine(_data, "regiontwo", "glance", "images")));
    }

    [Fact]
    public async Task A_real_virtual_machine_boots_in_RegionTwo_and_only_RegionTwo_sees_it()
    {
        var image = Path.Combine(_data, "test.qcow2");
        (await ProcessRunner.RunAsync(ProcessRunner.Stratus, ["test-image", "--output", image], timeout: TimeSpan.FromMinutes(5))).EnsureSuccess("stratus test-image");
        // The seed's admin-openrc-r2: RegionOne's identity, RegionTwo's services.
        var env = Openrc(Path.Combine(_data, "regiontwo", "admin-openrc"));
        env["OS_COMPUTE_API_VERSION"] = "2.37";
        async Task<ProcessRunner.Result> Os(params string[] args) => (await ProcessRunner.RunAsync("openstack", args, env)).EnsureSuccess("openstack " + string.Join(' ', args));
        await Os("image", "create", "testimg", "--file", image, "--disk-format", "qcow2", "--container-format", "bare", "--public");
        await Os("flavor", "create", "m1.tiny", "--ram", "128", "--disk", "1", "--vcpus", "1");
        var key = await Os("keypair", "create", "k1");
        Assert.Contains("PRIVATE KEY", key.Stdout);
        // The guest reports its virtio disks' serials whenever they change (user data on a config drive: no network here).
        var watcher = Path.Combine(_data, "watch-disks.sh");
        await File.WriteAllTextAsync(watcher, GuestScripts.DiskWatcher);
        var created = await Os("server", "create", "vm1", "--flavor", "m1.tiny", "--image", "testimg", "--nic", "none", "--key-name", "k1",
            "--config-drive", "true", "--user-data", watcher, "--wait", "-f", "value", "-c", "status");
        Assert.Equal("ACTIVE", created.Stdout.Trim());

        string console = "";
        for (var i = 0; i < 120 && !console.Contains("login: stratus test image ready", StringComparison.Ordinal); i++)
        {
            await Task.Delay(500);
            console = (await Os("console", "log", "show", "vm1")).Stdout;
        }
        Assert.Contains("login: stratus test image ready", console);

        var inOne = await Os("server", "list", "--os-region-name", "RegionOne", "-f", "value", "-c", "Name");
        Assert.DoesNotContain("vm1", inOne.Stdout);

        // Block storage: RegionTwo's own, a volume hot-plugged into the running guest and taken out again.
        var volumeServices = (await Os("volume", "service", "list", "-f", "value", "-c", "Binary", "-c", "Host", "-c", "State")).Stdout;
        Assert.Contains("cinder-scheduler controller up", volumeServices);
        Assert.Contains("cinder-volume controller@", volumeServices);
        var volume = (await Os("volume", "create", "--size", "1", "v1", "-f", "value", "-c", "id")).Stdout.Trim();
        Assert.DoesNotContain("v1", (await Os("volume", "list", "--os-region-name", "RegionOne", "-f", "value", "-c", "Name")).Stdout);
        async Task<string> VolumeStatusAsync(string want)
        {
            var now = "";
            for (var i = 0; i < 120 && now != want; i++)
            {
                await Task.Delay(500);
                now = (await Os("volume", "show", volume, "-f", "value", "-c", "status")).Stdout.Trim();
            }
            return now;
        }
        Assert.Equal("available", await VolumeStatusAsync("available"));
        async Task<string> LastDisksLineAsync(Func<string, bool> done)
        {
            var last = "";
            for (var i = 0; i < 120 && !done(last); i++)
            {
                await Task.Delay(500);
                var log = (await Os("console", "log", "show", "vm1")).Stdout;
                last = GuestScripts.LastDisksLine(log);
            }
            return last;
        }
        await Os("server", "add", "volume", "vm1", "v1");
        Assert.Equal("in-use", await VolumeStatusAsync("in-use"));
        Assert.Contains(volume[..20], await LastDisksLineAsync(l => l.Contains(volume[..20], StringComparison.Ordinal)));
        await Os("server", "remove", "volume", "vm1", "v1");
        Assert.Equal("available", await VolumeStatusAsync("available"));
        Assert.DoesNotContain(volume[..20], await LastDisksLineAsync(l => l.Length > 0 && !l.Contains(volume[..20], StringComparison.Ordinal)));

        // A server boots from a volume made from the image.
        await Os("volume", "create", "--size", "1", "--image", "testimg", "bootvol");
        for (var i = 0; i < 120 && (await Os("volume", "show", "bootvol", "-f", "value", "-c", "status")).Stdout.Trim() != "available"; i++) await Task.Delay(500);
        Assert.Equal("ACTIVE", (await Os("server", "create", "vm2", "--flavor", "m1.tiny", "--volume", "bootvol", "--nic", "none", "--wait",
            "-f", "value", "-c", "status")).Stdout.Trim());
        var booted = "";
        for (var i = 0; i < 120 && !booted.Contains("login: stratus test image ready", StringComparison.Ordinal); i++)
        {
            await Task.Delay(500);
            booted = (await Os("console", "log", "show", "vm2")).Stdout;
        }
        Assert.Contains("login: stratus test image ready", booted);
        await Os("server", "delete", "vm2", "--wait");
        await Os("volume", "delete", "v1");
        // The boot volume, kept by the server's delete, back to an image of RegionTwo's image service.
        await Os("image", "create", "--volume", "bootvol", "--disk-format", "qcow2", "bootimg");
        var imageStatus = "";
        for (var i = 0; i < 120 && imageStatus != "active"; i++)
        {
            await Task.Delay(500);
            imageStatus = (await Os("image", "show", "bootimg", "-f", "value", "-c", "status")).Stdout.Trim();
        }
        Assert.Equal("active", imageStatus);
        Assert.Equal("qcow2", (await Os("image", "show", "bootimg", "-f", "value", "-c", "disk_format")).Stdout.Trim());
        Assert.DoesNotContain("bootimg", (await Os("image", "list", "--os-region-name", "RegionOne", "-f", "value", "-c", "Name")).Stdout);
        var services = await Os("compute", "service", "list", "-f", "value", "-c", "Binary", "-c", "Host", "-c", "Zone", "-c", "State");
        Assert.Contains("nova-compute compute1 nova up", services.Stdout);
        Assert.Contains("nova-conductor controller internal up", services.Stdout);
        Assert.Contains("nova-scheduler controller internal up", services.Stdout);
        Assert.Contains("compute1", (await Os("hypervisor", "list", "-f", "value", "-c", "Hypervisor Hostname")).Stdout);

        async Task WaitForAsync(string status)
        {
            var now = "";
            for (var i = 0; i < 120 && now != status; i++)
            {
                await Task.Delay(500);
                now = (await Os("server", "show", "vm1", "-f", "value", "-c", "status")).Stdout.Trim();
            }
            Assert.Equal(status, now);
        }
        await Os("server", "stop", "vm1");
        await WaitForAsync("SHUTOFF");
        await Os("server", "start", "vm1");
        await WaitForAsync("ACTIVE");
        await Os("server", "reboot", "--hard", "vm1");
        await WaitForAsync("ACTIVE");
        await Os("server", "delete", "vm1", "--wait");
        Assert.Equal("", (await Os("server", "list", "-f", "value")).Stdout.Trim());

        // Placement's usage of RegionTwo's compute node is back to zero.
        var token = (await Os("token", "issue", "-f", "value", "-c", "id")).Stdout.Trim();
        using var placement = new HttpClient { BaseAddress = new Uri($"http://{_two}:8778/") };
        placement.DefaultRequestHeaders.Add("X-Auth-Token", token);
        placement.DefaultRequestHeaders.Add("OpenStack-API-Version", "placement 1.39");
        var rps = System.Text.Json.Nodes.JsonNode.Parse(await placement.GetStringAsync("resource_providers"))!["resource_providers"]!.AsArray();
        var rp = Assert.Single(rps);
        Assert.Equal("compute1", (string?)rp!["name"]);
        var usages = System.Text.Json.Nodes.JsonNode.Parse(await placement.GetStringAsync($"resource_providers/{rp["uuid"]}/usages"))!["usages"]!.AsObject();
        Assert.All(usages, u => Assert.Equal(0, (int)u.Value!));
    }

    [Fact]
    public async Task Sighup_reloads_and_the_cloud_keeps_serving()
    {
        Process.Start("kill", ["-HUP", _up!.Id.ToString()])!.WaitForExit();
        var env = Openrc(Path.Combine(_data, "regionone", "admin-openrc"));
        ProcessRunner.Result? result = null;
        for (var i = 0; i < 50; i++)
        {
            result = await ProcessRunner.RunAsync("openstack", ["token", "issue", "-f", "value", "-c", "id"], env);
            if (result.ExitCode == 0) break;
            await Task.Delay(200);
        }
        Assert.Equal(0, result!.ExitCode);
        Assert.False(_up.HasExited);

        // SIGTERM while the services start again (the identity first, the others after it) stops them all cleanly too.
        await Poll.UntilAsync(() => Task.FromResult(_upOutput.Count(l => l == "ready")), n => n == 2, "the end of the reload", 60);
        Process.Start("kill", ["-HUP", _up.Id.ToString()])!.WaitForExit();
        await Poll.UntilAsync(() => Task.FromResult(_upOutput.Count(l => l.StartsWith("identity: ", StringComparison.Ordinal))), n => n == 3,
            "the identity's third start", 20);
        await StopUpAsync();
    }

    [Fact]
    public async Task A_second_up_resumes_the_same_cloud_with_its_data()
    {
        var env = Openrc(Path.Combine(_data, "admin-openrc-r2"));
        var image = Path.Combine(_data, "kept.img");
        await File.WriteAllBytesAsync(image, new byte[4096]);
        (await ProcessRunner.RunAsync("openstack", ["image", "create", "kept", "--file", image, "--disk-format", "raw", "--container-format", "bare"], env))
            .EnsureSuccess("image create");
        var openrc = await File.ReadAllTextAsync(Path.Combine(_data, "admin-openrc"));

        await StopUpAsync();
        await StartUpAsync();
        Assert.Equal(openrc, await File.ReadAllTextAsync(Path.Combine(_data, "admin-openrc")));
        Assert.Equal("kept active", (await ProcessRunner.RunAsync("openstack", ["image", "list", "-f", "value", "-c", "Name", "-c", "Status"], env))
            .EnsureSuccess("image list").Stdout.Trim());
    }

    async Task StopUpAsync()
    {
        if (_up is { HasExited: false })
        {
            Process.Start("kill", ["-TERM", _up.Id.ToString()])!.WaitForExit();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _up.WaitForExitAsync(cts.Token);
            Assert.True(_up.ExitCode == 0, $"stratus up exited with {_up.ExitCode}:\n" + string.Join('\n', _upOutput.TakeLast(60)));
        }
        _up?.Dispose();
        _up = null;
    }

    public async Task DisposeAsync()
    {
        await StopUpAsync();
        await LeftoverDataPlane.RemoveAsync(_data);
        Directory.Delete(_data, recursive: true);
    }
}
