using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Stratus.Image.Tests;

public class ImageDataTests(ImageServer server) : IClassFixture<ImageServer>
{
    static JsonObject NewImage(string disk = "qcow2") => new()
    {
        ["name"] = "data-" + Guid.NewGuid().ToString("N")[..8],
        ["disk_format"] = disk,
        ["container_format"] = "bare",
    };

    static byte[] RandomBytes(int n) => RandomNumberGenerator.GetBytes(n);

    [Fact]
    public async Task Upload_makes_the_image_active_with_size_md5_and_sha512_and_download_returns_the_same_bytes()
    {
        var data = RandomBytes(3 * 1024 * 1024 + 17);
        var id = (string)(await server.Admin.CreateImageAsync(NewImage()))["id"]!;
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.UploadAsync(id, data)).StatusCode);
        var image = await server.Admin.GetJsonAsync($"v2/images/{id}");
        Assert.Equal("active", (string?)image["status"]);
        Assert.Equal(data.Length, (long)image["size"]!);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), (string?)image["checksum"]);
        Assert.Equal("sha512", (string?)image["os_hash_algo"]);
        Assert.Equal(Convert.ToHexStringLower(SHA512.HashData(data)), (string?)image["os_hash_value"]);

        var download = await server.Admin.GetAsync($"v2/images/{id}/file");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var md5 = download.Headers.TryGetValues("Content-MD5", out var h) ? h.Single() : download.Content.Headers.GetValues("Content-MD5").Single();
        Assert.Equal((string?)image["checksum"], md5);
        Assert.Equal(data, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Qcow2_virtual_size_comes_from_its_header()
    {
        var header = new byte[4096];
        header[0] = (byte)'Q'; header[1] = (byte)'F'; header[2] = (byte)'I'; header[3] = 0xFB;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(24), 1L << 30);
        var id = (string)(await server.Admin.CreateImageAsync(NewImage()))["id"]!;
        await server.Admin.UploadAsync(id, header);
        Assert.Equal(1L << 30, (long)(await server.Admin.GetJsonAsync($"v2/images/{id}"))["virtual_size"]!);
    }

    [Fact]
    public async Task Ranges_return_206_with_the_requested_bytes_and_416_when_unsatisfiable()
    {
        var data = RandomBytes(10_000);
        var id = (string)(await server.Admin.CreateImageAsync(NewImage()))["id"]!;
        await server.Admin.UploadAsync(id, data);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/images/{id}/file");
        request.Headers.Range = new RangeHeaderValue(100, 199);
        var resp = await server.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, resp.StatusCode);
        Assert.Equal("bytes 100-199/10000", resp.Content.Headers.ContentRange!.ToString());
        Assert.Equal(data[100..200], await resp.Content.ReadAsByteArrayAsync());

        using var suffix = new HttpRequestMessage(HttpMethod.Get, $"v2/images/{id}/file");
        suffix.Headers.Range = new RangeHeaderValue(null, 10);
        Assert.Equal(data[^10..], await (await server.Admin.SendAsync(suffix)).Content.ReadAsByteArrayAsync());

        using var bad = new HttpRequestMessage(HttpMethod.Get, $"v2/images/{id}/file");
        bad.Headers.Range = new RangeHeaderValue(20_000, 30_000);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, (await server.Admin.SendAsync(bad)).StatusCode);
    }

    [Fact]
    public async Task Upload_to_an_active_image_is_refused_and_keeps_the_first_bytes()
    {
        var data = RandomBytes(5000);
        var id = (string)(await server.Admin.CreateImageAsync(NewImage()))["id"]!;
        await server.Admin.UploadAsync(id, data);
        Assert.Equal(HttpStatusCode.Conflict, (await server.Admin.UploadAsync(id, RandomBytes(100))).StatusCode);
        Assert.Equal(data, await server.Admin.GetByteArrayAsync($"v2/images/{id}/file"));
    }

    [Fact]
    public async Task Upload_without_formats_is_a_bad_request()
    {
        var id = (string)(await server.Admin.CreateImageAsync(new JsonObject { ["name"] = "no-formats" }))["id"]!;
        Assert.Equal(HttpStatusCode.BadRequest, (await server.Admin.UploadAsync(id, RandomBytes(10))).StatusCode);
        Assert.Equal("queued", (string?)(await server.Admin.GetJsonAsync($"v2/images/{id}"))["status"]);
    }

    [Fact]
    public async Task Queued_image_download_is_204()
    {
        var id = (string)(await server.Admin.CreateImageAsync(NewImage()))["id"]!;
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.GetAsync($"v2/images/{id}/file")).StatusCode);
    }

    [Fact]
    public async Task An_interrupted_upload_leaves_a_queued_image_and_no_data()
    {
        var id = (string)(await server.Admin.CreateImageAsync(NewImage()))["id"]!;
        var uri = new Uri(server.BaseUrl);
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(uri.Host, uri.Port);
            var stream = tcp.GetStream();
            var head = $"PUT /v2/images/{id}/file HTTP/1.1\r\nHost: {uri.Authority}\r\nX-Auth-Token: {server.Identity.AdminToken}\r\n" +
                "Content-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(RandomBytes(2_000_000));
            await stream.FlushAsync();
            await Task.Delay(300);
        }
        JsonObject image;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            await Task.Delay(100);
            image = await server.Admin.GetJsonAsync($"v2/images/{id}");
        } while ((string?)image["status"] != "queued" && DateTime.UtcNow < deadline);
        Assert.Equal("queued", (string?)image["status"]);
        Assert.Null(image["checksum"]);
        Assert.False(File.Exists(server.DataFile(id)));
        Assert.Empty(Directory.Exists(server.Options.DataDir) ? Directory.GetFiles(server.Options.DataDir, id + "*") : []);
        // And the image can still be uploaded properly.
        var data = RandomBytes(1000);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.UploadAsync(id, data)).StatusCode);
        Assert.Equal(data, await server.Admin.GetByteArrayAsync($"v2/images/{id}/file"));
    }

    [Fact]
    public async Task Deleting_an_image_frees_its_data()
    {
        var id = (string)(await server.Admin.CreateImageAsync(NewImage()))["id"]!;
        await server.Admin.UploadAsync(id, RandomBytes(4096));
        Assert.True(File.Exists(server.DataFile(id)));
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v2/images/{id}")).StatusCode);
        Assert.False(File.Exists(server.DataFile(id)));
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.GetAsync($"v2/images/{id}/file")).StatusCode);
    }

    [Fact]
    public async Task Deactivated_image_data_is_forbidden_to_non_admins_until_reactivated()
    {
        var (user, _) = await server.NewProjectUserAsync();
        var id = (string)(await user.CreateImageAsync(NewImage()))["id"]!;
        Assert.Equal(HttpStatusCode.BadRequest, (await user.PostAsync($"v2/images/{id}/actions/deactivate", null)).StatusCode);
        await user.UploadAsync(id, RandomBytes(100));
        Assert.Equal(HttpStatusCode.NoContent, (await user.PostAsync($"v2/images/{id}/actions/deactivate", null)).StatusCode);
        Assert.Equal("deactivated", (string?)(await user.GetJsonAsync($"v2/images/{id}"))["status"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync($"v2/images/{id}/file")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Admin.GetAsync($"v2/images/{id}/file")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await user.PostAsync($"v2/images/{id}/actions/reactivate", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync($"v2/images/{id}/file")).StatusCode);
    }

    [Fact]
    public async Task Glance_direct_import_stages_then_activates_the_image()
    {
        var data = RandomBytes(200_000);
        var id = (string)(await server.Admin.CreateImageAsync(NewImage()))["id"]!;
        Assert.Equal(HttpStatusCode.Conflict,
            (await server.Admin.PostAsJsonAsync($"v2/images/{id}/import", new JsonObject { ["method"] = new JsonObject { ["name"] = "glance-direct" } })).StatusCode);
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.PutAsync($"v2/images/{id}/stage", content)).StatusCode);
        Assert.Equal("uploading", (string?)(await server.Admin.GetJsonAsync($"v2/images/{id}"))["status"]);
        var import = await server.Admin.PostAsJsonAsync($"v2/images/{id}/import", new JsonObject { ["method"] = new JsonObject { ["name"] = "glance-direct" } });
        Assert.Equal(HttpStatusCode.Accepted, import.StatusCode);
        JsonObject image;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        do
        {
            await Task.Delay(100);
            image = await server.Admin.GetJsonAsync($"v2/images/{id}");
        } while ((string?)image["status"] != "active" && DateTime.UtcNow < deadline);
        Assert.Equal("active", (string?)image["status"]);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), (string?)image["checksum"]);
        Assert.Equal(data, await server.Admin.GetByteArrayAsync($"v2/images/{id}/file"));
        Assert.Empty(Directory.GetFiles(server.Options.StagingDir));
    }

    [Fact]
    public async Task Only_the_owner_uploads()
    {
        var (user, _) = await server.NewProjectUserAsync();
        var body = NewImage();
        body["visibility"] = "public";
        var id = (string)(await server.Admin.CreateImageAsync(body))["id"]!;
        Assert.Equal(HttpStatusCode.Forbidden, (await user.UploadAsync(id, RandomBytes(10))).StatusCode);
        Assert.Equal("queued", (string?)(await server.Admin.GetJsonAsync($"v2/images/{id}"))["status"]);
    }
}

public class ImageSizeCapTests : IClassFixture<ImageSizeCapTests.SmallCapServer>
{
    public class SmallCapServer : ImageServer
    {
        protected override ImageOptions Configure(ImageOptions options) => options with { ImageSizeCap = 1000 };
    }

    readonly SmallCapServer _server;

    public ImageSizeCapTests(SmallCapServer server) => _server = server;

    [Fact]
    public async Task Data_over_image_size_cap_is_refused_with_413_and_nothing_is_kept()
    {
        var id = (string)(await _server.Admin.CreateImageAsync(new JsonObject { ["disk_format"] = "raw", ["container_format"] = "bare" }))["id"]!;
        var resp = await _server.Admin.UploadAsync(id, new byte[5000]);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, resp.StatusCode);
        Assert.Equal("queued", (string?)(await _server.Admin.GetJsonAsync($"v2/images/{id}"))["status"]);
        Assert.False(File.Exists(_server.DataFile(id)));
        // Chunked (no Content-Length): the cap is enforced while streaming.
        var chunked = new StreamContent(new MemoryStream(new byte[5000]));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Put, $"v2/images/{id}/file") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await _server.Admin.SendAsync(request)).StatusCode);
        Assert.False(File.Exists(_server.DataFile(id)));
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Admin.UploadAsync(id, new byte[1000])).StatusCode);
    }
}
