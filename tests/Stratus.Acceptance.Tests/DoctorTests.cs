using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Stratus.Acceptance.Tests.Infrastructure;
using Stratus.Core.Config;

namespace Stratus.Acceptance.Tests;

/// <summary>
/// <c>./stratus doctor</c> on a running node: silent when it is healthy, and each of the seed's misconfigurations, made one
/// at a time as an operator would make it, named with its file, section, key and fix.
/// </summary>
[UnsupportedOSPlatform("windows")] // file modes
public sealed class DoctorTests(DoctorTests.Node fixture) : IClassFixture<DoctorTests.Node>
{
    /// <summary>One all-in-one RegionOne node for the class, on an address of its own, healthy before any test starts.</summary>
    public sealed class Node : IAsyncLifetime
    {
        public StratusNode Stratus { get; } = StratusNode.Custom("RegionOne", null, ["--host", "doctor1"],
            n => n.SetConfig("nova/nova.conf", "DEFAULT", "compute_driver", "fake.FakeDriver"),
            address: $"127.81.{Environment.ProcessId % 200 + 1}.72");

        public async Task InitializeAsync()
        {
            await Stratus.InitializeAsync();
            // The services' and agents' first reports come as they start.
            var doctor = await DoctorAsync();
            for (var i = 0; i < 60 && doctor.ExitCode != 0; i++)
            {
                await Task.Delay(500);
                doctor = await DoctorAsync();
            }
            doctor.EnsureSuccess("doctor on the new node");
        }

        public Task<ProcessRunner.Result> DoctorAsync(params string[] args) =>
            ProcessRunner.RunAsync(ProcessRunner.Stratus, ["doctor", "--config-dir", Stratus.ConfigDir, .. args]);

        public Task DisposeAsync() => Stratus.DisposeAsync();
    }

    [Fact]
    public async Task A_healthy_node_has_no_problem()
    {
        var text = await fixture.DoctorAsync();
        Assert.Equal(0, text.ExitCode);
        Assert.StartsWith("doctor: no problem found (1 node(s), ", text.Stdout);
        var json = await fixture.DoctorAsync("--json");
        Assert.Equal(0, json.ExitCode);
        Assert.Empty(json.Json.AsArray());
    }

    [Fact]
    public Task Cinder_without_glance_api_servers_is_the_seeds_invalid_image_identifier() =>
        BrokenAsync("cinder/cinder.conf", path => File.WriteAllLines(path, File.ReadAllLines(path).Where(l => !l.StartsWith("glance_api_servers", StringComparison.Ordinal))),
            "peers", "DEFAULT", "glance_api_servers", "is not set",
            $"set glance_api_servers = http://{fixture.Stratus.Address}:9292 (the image endpoint of RegionOne); without it, server builds from volumes fail with 'Invalid image identifier or unable to access requested image'");

    [Fact]
    public Task Nova_placement_in_a_region_without_placement_is_the_seeds_ResourceProviderCreationFailed() =>
        BrokenAsync("nova/nova.conf", _ => fixture.Stratus.SetConfig("nova/nova.conf", "placement", "os_region_name", "RegionTwo"),
            "region", "placement", "os_region_name", "names region 'RegionTwo', which the identity does not have (its regions: RegionOne)",
            "set os_region_name = RegionOne; until then, nova-compute cannot report its resources: ResourceProviderCreationFailed / placement 401");

    [Fact]
    public Task Nova_placement_without_a_region_is_the_seeds_ResourceProviderCreationFailed() =>
        BrokenAsync("nova/nova.conf", path => File.WriteAllText(path, IniEdit.Set(File.ReadAllText(path), "placement", "os_region_name", "")),
            "region", "placement", "os_region_name", "is not set",
            "set os_region_name = RegionOne; until then, nova-compute cannot report its resources: ResourceProviderCreationFailed");

    [Fact]
    public Task Nova_cinder_without_a_region_is_the_seeds_invalid_image_identifier() =>
        BrokenAsync("nova/nova.conf", path => File.WriteAllText(path, IniEdit.Set(File.ReadAllText(path), "cinder", "os_region_name", "")),
            "region", "cinder", "os_region_name", "is not set",
            "set os_region_name = RegionOne; until then, server builds from volumes fail with 'Invalid image identifier or unable to access requested image'");

    [Fact]
    public Task A_keystone_authtoken_pointed_at_another_identity_is_named() =>
        BrokenAsync("cinder/cinder.conf", _ => fixture.Stratus.SetConfig("cinder/cinder.conf", "keystone_authtoken", "auth_url", "http://127.0.0.9:5000"),
            "identity", "keystone_authtoken", "auth_url", $"'http://127.0.0.9:5000' is not the shared identity {fixture.Stratus.Address}:5000",
            $"set auth_url = http://{fixture.Stratus.Address}:5000: a service validates tokens with the identity that issues them");

    [Fact]
    public Task A_database_that_does_not_answer_is_named_without_its_password() =>
        BrokenAsync("cinder/cinder.conf", _ => fixture.Stratus.SetConfig("cinder/cinder.conf", "database", "connection", "mysql+pymysql://cinder:not-the-password@127.0.0.1:1/cinder"),
            "backend", "database", "connection", "the database mysql+pymysql://cinder:***@127.0.0.1:1/cinder does not answer (",
            "start that database server, or correct the connection URL");

    [Fact]
    public Task A_message_bus_that_does_not_answer_is_named() =>
        BrokenAsync("nova/nova.conf", _ => fixture.Stratus.SetConfig("nova/nova.conf", "DEFAULT", "transport_url", "rabbit://nova:not-the-password@127.0.0.1:1/"),
            "backend", "DEFAULT", "transport_url", "no RabbitMQ of 127.0.0.1:1 answers (", "start RabbitMQ there, or correct transport_url");

    [Fact]
    public Task A_memcached_that_does_not_answer_is_named() =>
        BrokenAsync("glance/glance-api.conf", _ => fixture.Stratus.SetConfig("glance/glance-api.conf", "keystone_authtoken", "memcached_servers", "127.0.0.1:1"),
            "backend", "keystone_authtoken", "memcached_servers", "memcached at 127.0.0.1:1 does not answer (", "start memcached there");

    [Fact]
    public Task A_service_password_the_identity_refuses_is_named() =>
        BrokenAsync("glance/glance-api.conf", _ => fixture.Stratus.SetConfig("glance/glance-api.conf", "keystone_authtoken", "password", "not-the-password"),
            "login", "keystone_authtoken", "password", "glance cannot log in to project service with this password (the identity answers 401)",
            "set password to glance's password in the identity, or reset it there (openstack user set --password-prompt glance)");

    [Fact]
    public Task A_config_file_with_a_password_readable_by_everyone_is_named() =>
        BrokenAsync("placement/placement.conf", path => File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.GroupRead | UnixFileMode.OtherRead),
            "permissions", "keystone_authtoken", "password", $"every user of {fixture.Stratus.Address} can read this secret (mode 644)",
            $"chmod o-r {Path.Combine(fixture.Stratus.ConfigDir, "placement/placement.conf")}");

    [Fact]
    public async Task An_endpoint_that_does_not_answer_and_a_host_whose_clock_is_off_are_named()
    {
        var address = IPAddress.Parse(fixture.Stratus.Address);
        // A port nobody listens on, and a server whose clock is five minutes behind.
        var closed = new TcpListener(address, 0);
        closed.Start();
        var silentUrl = $"http://{fixture.Stratus.Address}:{((IPEndPoint)closed.LocalEndpoint).Port}";
        closed.Stop();
        using var skewed = new TcpListener(address, 0);
        skewed.Start();
        var skewedUrl = $"http://{fixture.Stratus.Address}:{((IPEndPoint)skewed.LocalEndpoint).Port}";
        using var stop = new CancellationTokenSource();
        var serving = ServeAsync(skewed, TimeSpan.FromMinutes(-5), stop.Token);
        var created = new List<string[]>();
        try
        {
            foreach (var (type, url) in new[] { ("key-manager", silentUrl), ("object-store", skewedUrl) })
            {
                var service = (await fixture.Stratus.OpenStackAsync("service", "create", "--name", "doctor-" + type, type, "-f", "value", "-c", "id")).Stdout.Trim();
                created.Add(["service", service]);
                var endpoint = (await fixture.Stratus.OpenStackAsync("endpoint", "create", "--region", "RegionOne", service, "public", url, "-f", "value", "-c", "id")).Stdout.Trim();
                created.Insert(0, ["endpoint", endpoint]);
            }
            var doctor = await fixture.DoctorAsync("--json");
            Assert.Equal(1, doctor.ExitCode);
            var problems = doctor.Json.AsArray().Select(p => p!.AsObject()).ToList();
            Assert.Equal(["endpoint", "clock"], problems.Select(p => (string?)p["check"]));
            Assert.All(problems, p => Assert.Equal(fixture.Stratus.Address, (string?)p["host"]));
            Assert.StartsWith($"the key-manager endpoint of RegionOne, {silentUrl}, does not answer its version document (no answer: Connection refused",
                (string?)problems[0]["problem"]);
            Assert.StartsWith($"start the node that serves it on {fixture.Stratus.Address}, or correct the endpoint", (string?)problems[0]["fix"]);
            Assert.Matches(@"^its clock is -(299|300|301) s off this machine's \(Date: ", (string?)problems[1]["problem"]);
            Assert.StartsWith($"synchronise the clocks of {fixture.Stratus.Address} and this machine", (string?)problems[1]["fix"]);
        }
        finally
        {
            foreach (var c in created) await fixture.Stratus.OpenStackAsync(c[0], "delete", c[1]);
            await stop.CancelAsync();
            skewed.Stop();
            await serving;
        }
    }

    [Fact]
    public async Task A_server_whose_port_cannot_bind_is_the_seeds_PortBindingFailed_with_its_cause()
    {
        var node = fixture.Stratus;
        var undo = new List<string[]>();
        try
        {
            var image = Path.Combine(node.ConfigDir, "doctor.img");
            await File.WriteAllBytesAsync(image, new byte[4096]);
            await node.OpenStackAsync("image", "create", "doctor-img", "--file", image, "--disk-format", "raw", "--container-format", "bare");
            undo.Insert(0, ["image", "delete", "doctor-img"]);
            await node.OpenStackAsync("flavor", "create", "doctor-flavor", "--ram", "64", "--disk", "1", "--vcpus", "1");
            undo.Insert(0, ["flavor", "delete", "doctor-flavor"]);
            // A flat network on the physical network "provider", which the host's Linux bridge agent does not map to an interface.
            await node.OpenStackAsync("network", "create", "doctor-flat", "--provider-network-type", "flat", "--provider-physical-network", "provider");
            undo.Insert(0, ["network", "delete", "doctor-flat"]);
            await node.OpenStackAsync("subnet", "create", "doctor-flat-subnet", "--network", "doctor-flat", "--subnet-range", "10.91.0.0/24");
            undo.Insert(0, ["subnet", "delete", "doctor-flat-subnet"]);
            var id = (await node.OpenStackAsync("server", "create", "doctor-vm", "--flavor", "doctor-flavor", "--image", "doctor-img", "--network", "doctor-flat",
                "-f", "value", "-c", "id")).Stdout.Trim();
            undo.Insert(0, ["server", "delete", "--wait", id]);
            var status = "";
            for (var i = 0; i < 120 && status != "ERROR"; i++)
            {
                await Task.Delay(500);
                status = (await node.OpenStackAsync("server", "show", id, "-f", "value", "-c", "status")).Stdout.Trim();
            }
            Assert.Equal("ERROR", status);

            var doctor = await fixture.DoctorAsync("--json");
            Assert.Equal(1, doctor.ExitCode);
            var found = Assert.Single(doctor.Json.AsArray())!.AsObject();
            Assert.Equal("servers doctor1", $"{found["check"]} {found["host"]}");
            Assert.StartsWith($"server doctor-vm ({id}) in RegionOne is in ERROR: PortBindingFailed: Binding failed for port ", (string?)found["problem"]);
            Assert.StartsWith("the Linux bridge agent of doctor1 is alive but cannot reach the network's segment: map its physical network in physical_interface_mappings",
                (string?)found["fix"]);
        }
        finally
        {
            foreach (var command in undo) await node.OpenStackAsync(command);
        }
    }

    /// <summary>A minimal HTTP server: 200 and an empty JSON document to every request, with a Date <paramref name="skew"/> off.</summary>
    static async Task ServeAsync(TcpListener listener, TimeSpan skew, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var client = await listener.AcceptTcpClientAsync(ct);
                var stream = client.GetStream();
                var buffer = new byte[4096];
                var request = "";
                while (!request.Contains("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(buffer, ct) is > 0 and var n)
                    request += Encoding.ASCII.GetString(buffer, 0, n);
                await stream.WriteAsync(Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 200 OK\r\nDate: {DateTimeOffset.UtcNow + skew:R}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"), ct);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
            {
            }
        }
    }

    [Fact]
    public async Task A_node_whose_identity_does_not_answer_is_one_problem_and_ups_nodes_are_the_default()
    {
        var dir = Directory.CreateTempSubdirectory("stratus-doctor-").FullName;
        try
        {
            // Without --config-dir, up's nodes in --data: here there are none, and doctor names the first it looked for.
            var none = await ProcessRunner.RunAsync(ProcessRunner.Stratus, ["doctor", "--data", dir]);
            Assert.Equal(2, none.ExitCode);
            Assert.Contains($"no admin-openrc in {Path.Combine(dir, "regionone")}", none.Stderr);

            // A node made but not started: its identity does not answer, which is said once, not for every service user.
            var node = Path.Combine(dir, "stopped");
            var address = $"127.81.{Environment.ProcessId % 200 + 1}.73";
            (await ProcessRunner.RunAsync(ProcessRunner.Stratus, ["node", "init", "--config-dir", node, "--region", "RegionOne", "--address", address,
                "--password", StratusNode.Password])).EnsureSuccess("node init");
            var doctor = await ProcessRunner.RunAsync(ProcessRunner.Stratus, ["doctor", "--config-dir", node]);
            Assert.Equal(1, doctor.ExitCode);
            var line = Assert.Single(doctor.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"identity: {address} {node}/admin-openrc OS_AUTH_URL: the identity at http://{address}:5000/v3 does not answer", line);
            Assert.Contains($"; fix: start the node that runs the identity (./stratus node start --config-dir {node})", line);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Breaks one file, and checks that doctor fails with that one problem, in its lines and in its JSON; puts the file back after.
    /// </summary>
    async Task BrokenAsync(string file, Action<string> breakIt, string check, string section, string key, string problem, string fix)
    {
        var path = Path.Combine(fixture.Stratus.ConfigDir, file);
        var saved = await File.ReadAllBytesAsync(path);
        var mode = File.GetUnixFileMode(path);
        try
        {
            breakIt(path);
            var text = await fixture.DoctorAsync();
            Assert.Equal(1, text.ExitCode);
            var line = Assert.Single(text.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"{check}: {fixture.Stratus.Address} {path} [{section}] {key}: {problem}", line);
            Assert.Contains("; fix: " + fix, line);
            Assert.DoesNotContain("not-the-password", text.Stdout);

            var json = await fixture.DoctorAsync("--json");
            Assert.Equal(1, json.ExitCode);
            var found = Assert.Single(json.Json.AsArray())!.AsObject();
            Assert.Equal(new string?[] { check, fixture.Stratus.Address, path, section, key },
                new[] { "check", "host", "file", "section", "key" }.Select(k => (string?)found[k]));
            Assert.StartsWith(problem, (string?)found["problem"]);
            Assert.StartsWith(fix, (string?)found["fix"]);
        }
        finally
        {
            await File.WriteAllBytesAsync(path, saved);
            File.SetUnixFileMode(path, mode);
        }
    }
}
