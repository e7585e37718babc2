using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Stratus.Core.Processes;

namespace Stratus.BlockStorage.Tests;

/// <summary>Volumes from images of the region's image service (glance_api_servers as node init writes it), and the seed's error when an image cannot be read.</summary>
public sealed class ImageVolumeTests(BlockStorageServer server) : IClassFixture<BlockStorageServer>
{
    /// <summary>An image of <paramref name="diskFormat"/> holding a marker at offset 8192 of a 4 MiB disk, uploaded as the caller; its id.</summary>
    async Task<string> UploadImageAsync(string token, string marker, string diskFormat)
    {
        var dir = Directory.CreateTempSubdirectory("stratus-image-").FullName;
        try
        {
            var raw = Path.Combine(dir, "disk.raw");
            await using (var f = File.Create(raw))
            {
                f.SetLength(4 << 20);
                f.Seek(8192, SeekOrigin.Begin);
                await f.WriteAsync(Encoding.ASCII.GetBytes(marker));
            }
            var upload = raw;
            if (diskFormat == "qcow2")
            {
                upload = Path.Combine(dir, "disk.qcow2");
                await HostCommand.RunAsync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, upload]);
            }
            using var images = server.ImageClient(token);
            var image = await images.ExpectAsync(HttpMethod.Post, "v2/images", 201,
                new JsonObject { ["name"] = "img-" + marker[..8], ["disk_format"] = diskFormat, ["container_format"] = "bare", ["min_disk"] = 1 });
            var id = (string)image["id"]!;
            var content = new ByteArrayContent(await File.ReadAllBytesAsync(upload));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            var put = await images.PutAsync($"v2/images/{id}/file", content);
            Assert.Equal(204, (int)put.StatusCode);
            return id;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static async Task<string> ReadAtAsync(string path, int offset, int length)
    {
        var bytes = new byte[length];
        await using var f = File.OpenRead(path);
        f.Seek(offset, SeekOrigin.Begin);
        await f.ReadExactlyAsync(bytes);
        return Encoding.ASCII.GetString(bytes);
    }

    [Theory]
    [InlineData("raw")]
    [InlineData("qcow2")]
    public async Task A_volume_from_an_image_holds_its_bytes_and_is_bootable(string diskFormat)
    {
        var (member, _, token) = await server.NewProjectUserAsync();
        var marker = Guid.NewGuid().ToString("N");
        var imageId = await UploadImageAsync(token, marker, diskFormat);
        var volume = await member.CreateVolumeAsync(new JsonObject { ["size"] = 1, ["imageRef"] = imageId });
        Assert.Equal("true", (string?)volume["bootable"]);
        Assert.Equal(imageId, (string?)volume["volume_image_metadata"]!["image_id"]);
        Assert.Equal(diskFormat, (string?)volume["volume_image_metadata"]!["disk_format"]);
        var file = Path.Combine(server.Options.Backends[0].VolumesDir, "volume-" + (string)volume["id"]!);
        Assert.Equal(marker, await ReadAtAsync(file, 8192, marker.Length));
        Assert.Equal(1L << 30, new FileInfo(file).Length);
        // No download is left behind.
        Assert.Empty(Directory.EnumerateFiles(server.Options.Backends[0].VolumesDir, "*.download"));
    }

    [Fact]
    public async Task A_raw_image_of_no_whole_number_of_blocks_is_copied_byte_for_byte_and_zeros_follow_it()
    {
        // Written a MiB at a time with O_DIRECT: the last block is padded, then cut off; none of its padding may stay.
        var (member, _, token) = await server.NewProjectUserAsync();
        var bytes = new byte[(3 << 20) + 1234];
        Random.Shared.NextBytes(bytes);
        using var images = server.ImageClient(token);
        var imageId = (string)(await images.ExpectAsync(HttpMethod.Post, "v2/images", 201,
            new JsonObject { ["name"] = "odd", ["disk_format"] = "raw", ["container_format"] = "bare" }))["id"]!;
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        Assert.Equal(204, (int)(await images.PutAsync($"v2/images/{imageId}/file", content)).StatusCode);

        var volume = await member.CreateVolumeAsync(new JsonObject { ["size"] = 1, ["imageRef"] = imageId });

        var file = Path.Combine(server.Options.Backends[0].VolumesDir, "volume-" + (string)volume["id"]!);
        var head = new byte[bytes.Length + 8192];
        await using (var f = File.OpenRead(file)) await f.ReadExactlyAsync(head);
        Assert.True(head.AsSpan(0, bytes.Length).SequenceEqual(bytes), "the volume's first bytes are not the image's");
        Assert.DoesNotContain(head.Skip(bytes.Length), b => b != 0);
        Assert.Equal(1L << 30, new FileInfo(file).Length);
    }

    [Fact]
    public async Task A_volume_uploaded_to_an_image_holds_its_bytes_in_the_asked_format_and_its_image_properties()
    {
        var (member, _, token) = await server.NewProjectUserAsync();
        var marker = Guid.NewGuid().ToString("N");
        var volume = await member.CreateVolumeAsync(new JsonObject { ["size"] = 1, ["imageRef"] = await UploadImageAsync(token, marker, "raw") });
        var id = (string)volume["id"]!;
        await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 200,
            VolumeCalls.Action("os-set_image_metadata", new JsonObject { ["metadata"] = new JsonObject { ["hw_disk_bus"] = "scsi" } }));

        var upload = (await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 202, VolumeCalls.Action("os-volume_upload_image",
            new JsonObject { ["image_name"] = "from-volume", ["disk_format"] = "qcow2", ["visibility"] = "shared" })))["os-volume_upload_image"]!;
        Assert.Equal("uploading", (string?)upload["status"]);
        Assert.Equal("from-volume", (string?)upload["image_name"]);
        Assert.Equal("shared", (string?)upload["visibility"]);
        var imageId = (string)upload["image_id"]!;

        await member.WaitVolumeAsync(id, "available");
        using var images = server.ImageClient(token);
        var image = await images.ExpectAsync(HttpMethod.Get, $"v2/images/{imageId}", 200);
        Assert.Equal("active", (string?)image["status"]);
        Assert.Equal("qcow2", (string?)image["disk_format"]);
        Assert.Equal("scsi", (string?)image["hw_disk_bus"]);
        var dir = Directory.CreateTempSubdirectory("stratus-upload-").FullName;
        try
        {
            var qcow2 = Path.Combine(dir, "image.qcow2");
            await File.WriteAllBytesAsync(qcow2, await images.GetByteArrayAsync($"v2/images/{imageId}/file"));
            var raw = Path.Combine(dir, "image.raw");
            await HostCommand.RunAsync("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", qcow2, raw]);
            Assert.Equal(marker, await ReadAtAsync(raw, 8192, marker.Length));
            Assert.Equal(1L << 30, new FileInfo(raw).Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        Assert.Empty(Directory.EnumerateFiles(server.Options.Backends[0].VolumesDir, "*.upload"));
    }

    [Fact]
    public async Task An_upload_is_refused_with_Cinders_400_for_bad_input_and_a_volume_not_available()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var id = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        var bad = await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 400,
            VolumeCalls.Action("os-volume_upload_image", new JsonObject { ["image_name"] = "x", ["disk_format"] = "iso" }));
        Assert.StartsWith("Invalid input for field/attribute disk_format.", (string?)bad["badRequest"]!["message"]);
        await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 400, VolumeCalls.Action("os-volume_upload_image", new JsonObject { ["disk_format"] = "raw" }));
        // An in-use volume: force is ignored while [DEFAULT] enable_force_upload is off, as in Cinder.
        await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 202,
            VolumeCalls.Action("os-attach", new JsonObject { ["instance_uuid"] = Guid.NewGuid().ToString(), ["mountpoint"] = "/dev/vdb" }));
        var inUse = await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 400,
            VolumeCalls.Action("os-volume_upload_image", new JsonObject { ["image_name"] = "x", ["force"] = true }));
        Assert.Equal($"Invalid volume: Volume {id} status must be available", (string?)inUse["badRequest"]!["message"]);
        Assert.Equal("in-use", (string?)(await member.ExpectAsync(HttpMethod.Get, $"volumes/{id}", 200))["volume"]!["status"]);
        // A member may not publish an image (upload_public is admin only).
        await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 403,
            VolumeCalls.Action("os-volume_upload_image", new JsonObject { ["image_name"] = "x", ["visibility"] = "public" }));
    }

    [Fact]
    public async Task An_image_that_does_not_exist_is_Cinders_400()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var body = await member.ExpectAsync(HttpMethod.Post, "volumes", 400,
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["imageRef"] = Guid.NewGuid().ToString() } });
        Assert.Equal("Invalid image identifier or unable to access requested image.", (string?)body["badRequest"]!["message"]);
    }

    [Fact]
    public async Task An_image_too_large_for_min_disk_is_refused()
    {
        var (member, _, token) = await server.NewProjectUserAsync();
        var imageId = await UploadImageAsync(token, Guid.NewGuid().ToString("N"), "raw");
        using var images = server.ImageClient(token);
        var patch = new StringContent("""[{"op": "replace", "path": "/min_disk", "value": 5}]""");
        patch.Headers.ContentType = new MediaTypeHeaderValue("application/openstack-images-v2.1-json-patch");
        Assert.Equal(200, (int)(await images.PatchAsync($"v2/images/{imageId}", patch)).StatusCode);
        var body = await member.ExpectAsync(HttpMethod.Post, "volumes", 400,
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["imageRef"] = imageId } });
        Assert.Equal("Invalid input received: Volume size 1GB cannot be smaller than the image minDisk size 5GB.", (string?)body["badRequest"]!["message"]);
    }

    [Fact]
    public async Task An_image_that_is_not_active_is_refused()
    {
        var (member, _, token) = await server.NewProjectUserAsync();
        var imageId = await UploadImageAsync(token, Guid.NewGuid().ToString("N"), "raw");
        using var admin = server.ImageClient(server.Identity.AdminToken);
        await admin.ExpectAsync(HttpMethod.Post, $"v2/images/{imageId}/actions/deactivate", 204);
        var body = await member.ExpectAsync(HttpMethod.Post, "volumes", 400, new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["imageRef"] = imageId } });
        Assert.Equal($"Invalid input received: Image {imageId} is not active.", (string?)body["badRequest"]!["message"]);
    }

    [Fact]
    public async Task An_image_the_volume_service_cannot_read_leaves_the_volume_in_error_with_the_reason_in_messages()
    {
        var (member, project, token) = await server.NewProjectUserAsync();
        var imageId = await UploadImageAsync(token, Guid.NewGuid().ToString("N"), "raw");
        // The image service still shows the image but can no longer send its bytes (its file is gone from the store).
        File.Delete(Path.Combine(server.Node.Options<Stratus.Image.ImageOptions>().DataDir, imageId));
        var volume = await member.CreateVolumeAsync(new JsonObject { ["size"] = 1, ["imageRef"] = imageId }, until: "error");
        var id = (string)volume["id"]!;
        var messages = (await member.ExpectAsync(HttpMethod.Get, $"messages?resource_uuid={id}", 200))["messages"]!.AsArray();
        var message = Assert.Single(messages)!;
        Assert.StartsWith($"copy image to volume:Invalid image identifier or unable to access requested image. Reason: the image service at {server.ImageUrl} answered ",
            (string?)message["user_message"]);
        Assert.EndsWith($"to GET /v2/images/{imageId}/file", (string?)message["user_message"]);
        Assert.Equal("VOLUME_VOLUME_005_019", (string?)message["event_id"]);
        Assert.Equal("ERROR", (string?)message["message_level"]);
        Assert.False(File.Exists(Path.Combine(server.Options.Backends[0].VolumesDir, "volume-" + id)));
        Assert.Empty(Directory.EnumerateFiles(server.Options.Backends[0].VolumesDir, "*.download"));
        // Messages exist from 3.3 on.
        using var old = server.Client(token, project, "3.2");
        Assert.Equal(404, (await old.SendAsync(HttpMethod.Get, "messages")).Status);
        await member.ExpectAsync(HttpMethod.Delete, $"volumes/{id}", 202);
        await member.WaitGoneAsync($"volumes/{id}");
    }

    [Fact]
    public async Task An_image_larger_than_the_volume_inside_fails_in_cinder_volume()
    {
        var (member, _, token) = await server.NewProjectUserAsync();
        var dir = Directory.CreateTempSubdirectory("stratus-image-").FullName;
        try
        {
            // Small as a file, 2 GiB to a guest: only cinder-volume, which reads the image, can tell.
            var path = Path.Combine(dir, "big.qcow2");
            await HostCommand.RunAsync("qemu-img", ["create", "-q", "-f", "qcow2", path, "2G"]);
            using var images = server.ImageClient(token);
            var imageId = (string)(await images.ExpectAsync(HttpMethod.Post, "v2/images", 201,
                new JsonObject { ["name"] = "big", ["disk_format"] = "qcow2", ["container_format"] = "bare" }))["id"]!;
            var content = new ByteArrayContent(await File.ReadAllBytesAsync(path));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            Assert.Equal(204, (int)(await images.PutAsync($"v2/images/{imageId}/file", content)).StatusCode);
            var volume = await member.CreateVolumeAsync(new JsonObject { ["size"] = 1, ["imageRef"] = imageId }, until: "error");
            var message = (await member.ExpectAsync(HttpMethod.Get, $"messages?resource_uuid={(string)volume["id"]!}", 200))["messages"]![0]!;
            Assert.Equal("copy image to volume:Image used for creating volume exceeds available space. Reason: Image virtual size is 2GB and doesn't fit in a volume of size 1GB.",
                (string?)message["user_message"]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>A block storage node whose glance_api_servers names an image service that does not answer: the seed's section 6.</summary>
public sealed class UnreachableImageServer : BlockStorageServer
{
    protected override IReadOnlyDictionary<string, string>? PostConfig =>
        new Dictionary<string, string> { [BlockStorageModule.CinderConf] = "[DEFAULT]\nglance_api_servers = http://127.0.0.1:9\n" };
}

public sealed class UnreachableImageTests(UnreachableImageServer server) : IClassFixture<UnreachableImageServer>
{
    [Fact]
    public async Task Create_from_an_image_names_the_image_service_that_did_not_answer()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var body = await member.ExpectAsync(HttpMethod.Post, "volumes", 400,
            new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["imageRef"] = Guid.NewGuid().ToString() } });
        var message = (string)body["badRequest"]!["message"]!;
        Assert.StartsWith("Invalid image identifier or unable to access requested image. The image service at http://127.0.0.1:9 did not answer", message);
        Assert.Empty((await member.ExpectAsync(HttpMethod.Get, "volumes", 200))["volumes"]!.AsArray());
    }
}
