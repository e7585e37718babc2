using System.Net;
using System.Text.Json.Nodes;
using Stratus.Core.Processes;

namespace Stratus.BlockStorage.Tests;

/// <summary>The volume API over real HTTP: a real identity, cinder-api, cinder-scheduler and a file backend's cinder-volume.</summary>
public sealed class VolumeApiTests(BlockStorageServer server) : IClassFixture<BlockStorageServer>
{
    static async Task<long> VirtualSizeAsync(string path) =>
        (long)JsonNode.Parse(await HostCommand.RunAsync("qemu-img", ["info", "--output=json", path]))!["virtual-size"]!;

    string FileOf(string volumeId) => Path.Combine(server.Options.Backends[0].VolumesDir, "volume-" + volumeId);

    [Fact]
    public async Task Version_discovery_answers_at_the_root_and_v3_with_the_microversion_range()
    {
        using var anonymous = TestHttp.Client(server.Url, null);
        var root = await anonymous.GetAsync("/");
        Assert.Equal(HttpStatusCode.MultipleChoices, root.StatusCode);
        var version = (await root.JsonAsync())["versions"]![0]!;
        Assert.Equal("v3.0", (string?)version["id"]);
        Assert.Equal("3.70", (string?)version["version"]);
        Assert.Equal("3.0", (string?)version["min_version"]);
        Assert.Equal($"{server.Url}/v3/", (string?)version["links"]![1]!["href"]);
        var v3 = await anonymous.GetAsync("/v3/");
        Assert.Equal(HttpStatusCode.OK, v3.StatusCode);
    }

    [Fact]
    public async Task Microversion_header_is_echoed_and_out_of_range_versions_are_refused()
    {
        using var admin = await server.AdminAsync("3.50");
        var ok = await admin.GetAsync("volumes");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("volume 3.50", ok.Headers.GetValues("OpenStack-API-Version").Single());
        using var tooNew = await server.AdminAsync("3.71");
        var (status, body) = await tooNew.SendAsync(HttpMethod.Get, "volumes");
        Assert.Equal(406, status);
        Assert.Equal("Version 3.71 is not supported by the API. Minimum is 3.0 and maximum is 3.70.", (string?)body["computeFault"]!["message"]);
        using var garbled = await server.AdminAsync("3.x");
        (status, body) = await garbled.SendAsync(HttpMethod.Get, "volumes");
        Assert.Equal(400, status);
        Assert.Contains("is of invalid format", (string?)body["badRequest"]!["message"]);
        // Attachments exist from 3.27 on.
        using var old = await server.AdminAsync("3.26");
        Assert.Equal(404, (await old.SendAsync(HttpMethod.Get, "attachments")).Status);
    }

    [Fact]
    public async Task Requests_need_a_token_and_the_token_project_in_the_url()
    {
        using var anonymous = TestHttp.Client($"{server.Url}/v3/anything", null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("volumes")).StatusCode);
        var (member, _, token) = await server.NewProjectUserAsync();
        using var other = server.Client(token, "0123456789abcdef0123456789abcdef");
        var (status, body) = await other.SendAsync(HttpMethod.Get, "volumes");
        Assert.Equal(400, status);
        Assert.Equal("Malformed request url", (string?)body["badRequest"]!["message"]);
        member.Dispose();
    }

    [Fact]
    public async Task An_empty_volume_is_a_file_of_its_size_until_deleted()
    {
        var (member, project, _) = await server.NewProjectUserAsync();
        var volume = await member.CreateVolumeAsync(new JsonObject { ["size"] = 1, ["name"] = "empty", ["metadata"] = new JsonObject { ["k"] = "v" } });
        var id = (string)volume["id"]!;
        Assert.Equal(1, (int)volume["size"]!);
        Assert.Equal("empty", (string?)volume["name"]);
        Assert.Equal("__DEFAULT__", (string?)volume["volume_type"]);
        Assert.Equal("false", (string?)volume["bootable"]);
        Assert.Equal("v", (string?)volume["metadata"]!["k"]);
        Assert.Equal(project, (string?)volume["os-vol-tenant-attr:tenant_id"]);
        Assert.Equal(1L << 30, await VirtualSizeAsync(FileOf(id)));

        await member.ExpectAsync(HttpMethod.Delete, $"volumes/{id}", 202);
        await member.WaitGoneAsync($"volumes/{id}");
        Assert.False(File.Exists(FileOf(id)));
        var (status, body) = await member.SendAsync(HttpMethod.Get, $"volumes/{id}");
        Assert.Equal(404, status);
        Assert.Equal($"Volume {id} could not be found.", (string?)body["itemNotFound"]!["message"]);
    }

    [Theory]
    [InlineData("-1", 400, "badRequest", "Invalid input for field/attribute size. Value: -1. -1 is less than the minimum of 1")]
    [InlineData("0", 400, "badRequest", "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1")]
    [InlineData("99999999999", 400, "badRequest", "Invalid input for field/attribute size. Value: 99999999999. 99999999999 is greater than the maximum of 2147483647")]
    [InlineData("\"abc\"", 400, "badRequest", "Invalid input for field/attribute size. Value: abc. 'abc' does not match '^[0-9]+$'")]
    [InlineData("5000", 413, "overLimit", "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 5000G, quota is 1000G and 0G has been consumed.")]
    public async Task Bad_sizes_get_Cinders_errors(string size, int status, string fault, string message)
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var (code, body) = await member.SendAsync(HttpMethod.Post, "volumes", new JsonObject { ["volume"] = new JsonObject { ["size"] = JsonNode.Parse(size) } });
        Assert.Equal(status, code);
        Assert.Equal(message, (string?)body[fault]!["message"]);
        Assert.Equal(status, (int)body[fault]!["code"]!);
        Assert.Empty((await member.ExpectAsync(HttpMethod.Get, "volumes", 200))["volumes"]!.AsArray());
    }

    [Fact]
    public async Task An_unknown_volume_type_is_not_found()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var body = await member.ExpectAsync(HttpMethod.Post, "volumes", 404,
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["volume_type"] = "no-such-type" } });
        Assert.Equal("Volume type with name no-such-type could not be found.", (string?)body["itemNotFound"]!["message"]);
    }

    [Fact]
    public async Task Extend_grows_the_file_and_refuses_a_smaller_size()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var id = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        var refused = await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 400, VolumeCalls.Action("os-extend", new JsonObject { ["new_size"] = 1 }));
        Assert.Equal("Invalid input received: New size for extend must be greater than current size. (current: 1, extended: 1).", (string?)refused["badRequest"]!["message"]);
        await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 202, VolumeCalls.Action("os-extend", new JsonObject { ["new_size"] = 3 }));
        var volume = await member.WaitVolumeAsync(id, "available");
        Assert.Equal(3, (int)volume["size"]!);
        Assert.Equal(3L << 30, await VirtualSizeAsync(FileOf(id)));
    }

    [Fact]
    public async Task Snapshot_clone_and_volume_from_snapshot_hold_the_source_bytes()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var id = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        var marker = "stratus-block-" + Guid.NewGuid().ToString("N");
        await using (var f = new FileStream(FileOf(id), FileMode.Open, FileAccess.Write))
        {
            f.Seek(4096, SeekOrigin.Begin);
            await f.WriteAsync(System.Text.Encoding.ASCII.GetBytes(marker));
        }
        var snapshot = (await member.ExpectAsync(HttpMethod.Post, "snapshots", 202,
            new JsonObject { ["snapshot"] = new JsonObject { ["volume_id"] = id, ["name"] = "snap" } }))["snapshot"]!;
        var snapshotId = (string)snapshot["id"]!;
        Assert.Equal("snap", (string?)(await member.WaitSnapshotAsync(snapshotId, "available"))["name"]);

        var fromSnapshot = await member.CreateVolumeAsync(new JsonObject { ["snapshot_id"] = snapshotId, ["size"] = 2 });
        Assert.Equal(snapshotId, (string?)fromSnapshot["snapshot_id"]);
        Assert.Equal(2L << 30, await VirtualSizeAsync(FileOf((string)fromSnapshot["id"]!)));
        var clone = await member.CreateVolumeAsync(new JsonObject { ["source_volid"] = id });
        Assert.Equal(1, (int)clone["size"]!);
        foreach (var copy in new[] { (string)fromSnapshot["id"]!, (string)clone["id"]! })
        {
            var bytes = new byte[marker.Length];
            await using var f = File.OpenRead(FileOf(copy));
            f.Seek(4096, SeekOrigin.Begin);
            await f.ReadExactlyAsync(bytes);
            Assert.Equal(marker, System.Text.Encoding.ASCII.GetString(bytes));
        }

        // A volume with snapshots cannot be deleted; without, it can.
        var refused = await member.ExpectAsync(HttpMethod.Delete, $"volumes/{id}", 400);
        Assert.Contains("have snapshots", (string?)refused["badRequest"]!["message"]);
    }

    [Fact]
    public async Task Cascade_delete_removes_the_snapshots_with_the_volume()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var id = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        var snapshots = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var s = (string)(await member.ExpectAsync(HttpMethod.Post, "snapshots", 202, new JsonObject { ["snapshot"] = new JsonObject { ["volume_id"] = id } }))["snapshot"]!["id"]!;
            await member.WaitSnapshotAsync(s, "available");
            snapshots.Add(s);
        }
        await member.ExpectAsync(HttpMethod.Delete, $"volumes/{id}?cascade=true", 202);
        await member.WaitGoneAsync($"volumes/{id}");
        // Gone together with the volume, not after it.
        Assert.Empty((await member.ExpectAsync(HttpMethod.Get, $"snapshots?volume_id={id}", 200))["snapshots"]!.AsArray());
        foreach (var s in snapshots) Assert.False(File.Exists(Path.Combine(server.Options.Backends[0].VolumesDir, "snapshot-" + s)));
        Assert.False(File.Exists(FileOf(id)));
    }
}
