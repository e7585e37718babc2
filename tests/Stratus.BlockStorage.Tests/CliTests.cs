using System.Text.Json.Nodes;

namespace Stratus.BlockStorage.Tests;

/// <summary>The real <c>openstack</c> CLI (Debian's python3-openstackclient, cinderclient underneath) against the block storage service.</summary>
public sealed class CliTests(BlockStorageServer server) : IClassFixture<BlockStorageServer>
{
    Task<JsonNode> OpenStack(params string[] args) => server.Identity.OpenStackAsync(args);

    /// <summary>A command that prints nothing (set, delete): only its exit status counts.</summary>
    async Task Run(params string[] args) =>
        (await ProcessRunner.RunAsync("openstack", args, server.Identity.AdminEnv())).EnsureSuccess("openstack " + string.Join(' ', args));

    async Task<JsonNode> WaitAsync(string kind, string id, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var shown = await OpenStack(kind == "snapshot" ? ["volume", "snapshot", "show", id] : ["volume", "show", id]);
            if ((string?)shown["status"] == status) return shown;
            if ((string?)shown["status"] == "error" || DateTime.UtcNow > deadline) Assert.Fail($"{kind} {id} is {(string?)shown["status"]}, expected {status}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Volume_service_list_shows_the_scheduler_and_the_backend_up()
    {
        var services = (await OpenStack("volume", "service", "list")).AsArray();
        var backend = services.Single(s => (string?)s!["Binary"] == "cinder-volume")!;
        Assert.Equal(server.Options.Host + "@file", (string?)backend["Host"]);
        Assert.Equal("up", (string?)backend["State"]);
        Assert.Equal("enabled", (string?)backend["Status"]);
        Assert.Equal("nova", (string?)backend["Zone"]);
        Assert.Contains(services, s => (string?)s!["Binary"] == "cinder-scheduler" && (string?)s["State"] == "up");
    }

    [Fact]
    public async Task Volumes_snapshots_and_types_through_the_cli()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var type = await OpenStack("volume", "type", "create", "--property", "volume_backend_name=file", "cli-type-" + suffix);
        Assert.Equal("cli-type-" + suffix, (string?)type["name"]);

        var created = await OpenStack("volume", "create", "--size", "1", "--type", "cli-type-" + suffix, "--property", "purpose=test", "cli-vol-" + suffix);
        var id = (string)created["id"]!;
        var volume = await WaitAsync("volume", id, "available");
        Assert.Equal(1, (int)volume["size"]!);
        Assert.Equal("cli-type-" + suffix, (string?)volume["type"]);

        await Run("volume", "set", "--name", "cli-renamed-" + suffix, "--description", "from the CLI", "--property", "k=v", id);
        volume = await OpenStack("volume", "show", id);
        Assert.Equal("cli-renamed-" + suffix, (string?)volume["name"]);
        Assert.Equal("from the CLI", (string?)volume["description"]);
        Assert.Contains("k", volume["properties"]!.ToJsonString());
        Assert.Contains((await OpenStack("volume", "list")).AsArray(), v => (string?)v!["ID"] == id && (string?)v["Name"] == "cli-renamed-" + suffix);

        var snapshot = await OpenStack("volume", "snapshot", "create", "--volume", id, "cli-snap-" + suffix);
        var snapshotId = (string)snapshot["id"]!;
        await WaitAsync("snapshot", snapshotId, "available");
        Assert.Contains((await OpenStack("volume", "snapshot", "list")).AsArray(), s => (string?)s!["ID"] == snapshotId);

        var fromSnapshot = (string)(await OpenStack("volume", "create", "--snapshot", snapshotId, "--size", "1", "cli-from-snap-" + suffix))["id"]!;
        var clone = (string)(await OpenStack("volume", "create", "--source", id, "--size", "2", "cli-clone-" + suffix))["id"]!;
        Assert.Equal(snapshotId, (string?)(await WaitAsync("volume", fromSnapshot, "available"))["snapshot_id"]);
        Assert.Equal(2, (int)(await WaitAsync("volume", clone, "available"))["size"]!);

        await Run("volume", "snapshot", "delete", snapshotId);
        // The snapshot goes first: a volume with snapshots cannot be deleted.
        var snapshotDeadline = DateTime.UtcNow.AddSeconds(60);
        while ((await OpenStack("volume", "snapshot", "list")).AsArray().Any(s => (string?)s!["ID"] == snapshotId))
        {
            if (DateTime.UtcNow > snapshotDeadline) Assert.Fail("snapshot not deleted");
            await Task.Delay(200);
        }
        await Run("volume", "delete", id, fromSnapshot, clone);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await OpenStack("volume", "list")).AsArray().Any(v => (string?)v!["ID"] is { } x && (x == id || x == fromSnapshot || x == clone)))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("volumes not deleted");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Volume_create_from_an_image_by_name_and_image_create_from_the_volume()
    {
        var name = "cli-image-" + Guid.NewGuid().ToString("N")[..6];
        var file = Path.GetTempFileName();
        var saved = file + ".saved";
        try
        {
            var marker = System.Text.Encoding.ASCII.GetBytes("stratus-cli-" + name);
            await using (var f = File.OpenWrite(file))
            {
                f.SetLength(1 << 20);
                await f.WriteAsync(marker);
            }
            await OpenStack("image", "create", "--file", file, "--disk-format", "raw", "--container-format", "bare", name);
            var id = (string)(await OpenStack("volume", "create", "--image", name, "--size", "1", name + "-vol"))["id"]!;
            var volume = await WaitAsync("volume", id, "available");
            Assert.Equal("true", (string?)volume["bootable"]);
            var bytes = new byte[marker.Length];
            await using (var v = File.OpenRead(Path.Combine(server.Options.Backends[0].VolumesDir, "volume-" + id)))
                await v.ReadExactlyAsync(bytes);
            Assert.Equal(marker, bytes);

            // And back: image create --volume uploads the volume (os-volume_upload_image) as a new image with the same bytes.
            var uploaded = await OpenStack("image", "create", "--volume", id, "--disk-format", "raw", name + "-up");
            Assert.Equal(name + "-up", (string?)uploaded["image_name"]);
            var imageId = (string)uploaded["image_id"]!;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((string?)(await OpenStack("image", "show", imageId))["status"] != "active")
            {
                Assert.True(DateTime.UtcNow < deadline, $"image {imageId} never became active");
                await Task.Delay(200);
            }
            await WaitAsync("volume", id, "available");
            await Run("image", "save", "--file", saved, imageId);
            Assert.Equal(1L << 30, new FileInfo(saved).Length);
            await using var s = File.OpenRead(saved);
            await s.ReadExactlyAsync(bytes);
            Assert.Equal(marker, bytes);
        }
        finally
        {
            File.Delete(file);
            File.Delete(saved);
        }
    }

    [Fact]
    public async Task Bad_input_gets_Cinders_4xx_through_the_cli()
    {
        async Task<string> Refused(params string[] args)
        {
            var r = await ProcessRunner.RunAsync("openstack", args, server.Identity.AdminEnv());
            Assert.NotEqual(0, r.ExitCode);
            return r.Stderr;
        }
        Assert.Contains("Invalid input for field/attribute size. Value: -1. -1 is less than the minimum of 1 (HTTP 400)", await Refused("volume", "create", "--size", "-1", "neg"));
        Assert.Contains("Requested volume or snapshot exceeds allowed gigabytes quota. Requested 100000G, quota is 1000G and", await Refused("volume", "create", "--size", "100000", "huge"));
        Assert.Contains("(HTTP 404)", await Refused("volume", "create", "--size", "1", "--type", "no-such-type", "typeless"));
        var id = (string)(await OpenStack("volume", "create", "--size", "2", "cli-extend"))["id"]!;
        await WaitAsync("volume", id, "available");
        await Run("volume", "set", "--size", "3", id);
        Assert.Equal(3, (int)(await WaitAsync("volume", id, "available"))["size"]!);
        // In use (attached as Nova's legacy flow does it): the delete is Cinder's 400.
        using var admin = await server.AdminAsync();
        await admin.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 202, VolumeCalls.Action("os-reserve"));
        await admin.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 202, VolumeCalls.Action("os-attach", new JsonObject { ["instance_uuid"] = Guid.NewGuid().ToString(), ["mountpoint"] = "/dev/vdb" }));
        Assert.Equal("in-use", (string?)(await OpenStack("volume", "show", id))["status"]);
        Assert.Contains("Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached",
            await Refused("volume", "delete", id));
        Assert.Equal("in-use", (string?)(await OpenStack("volume", "show", id))["status"]);
    }
}
