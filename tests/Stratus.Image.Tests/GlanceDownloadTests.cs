using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Stratus.Image.Tests;

/// <summary>
/// glance-download copies an image from the image service of another region, found in the caller's
/// catalog and fetched with the caller's token. Here "RegionTwo" is this same image service, registered
/// in the catalog again before any token is validated (so no cached validation predates it).
/// </summary>
public sealed class GlanceDownloadTests : IAsyncLifetime
{
    readonly ImageServer _server = new();

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        await new Stratus.Core.Modules.IdentityApiRegistry(_server.Identity.BaseUrl + "/v3", TestNode.AdminPassword)
            .RegisterAsync(new("image", "glance", "OpenStack Image", "RegionTwo", _server.BaseUrl));
    }

    public Task DisposeAsync() => _server.DisposeAsync();

    async Task<string> CreateAsync(JsonObject body) => (string)(await _server.Admin.CreateImageAsync(body))["id"]!;

    async Task<HttpStatusCode> ImportAsync(string id, string remoteId, string region) =>
        (await _server.Admin.PostAsJsonAsync($"v2/images/{id}/import", new JsonObject
        {
            ["method"] = new JsonObject { ["name"] = "glance-download", ["glance_image_id"] = remoteId, ["glance_region"] = region },
        })).StatusCode;

    async Task<JsonObject> WaitAsync(string id, string until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonObject image;
        do
        {
            await Task.Delay(100);
            image = await _server.Admin.GetJsonAsync($"v2/images/{id}");
        } while ((string?)image["status"] != until && DateTime.UtcNow < deadline);
        return image;
    }

    /// <summary>Waits for the import task's status, as Tempest's waiter does before it reads the image.</summary>
    async Task WaitForTaskAsync(string id, string until) =>
        await Poll.UntilAsync(async () => (string?)(await _server.Admin.GetJsonAsync($"v2/images/{id}/tasks"))["tasks"]!.AsArray().Single()!["status"],
            status => status == until, $"the import task of {id} to reach {until}", 20);

    async Task<string?> TaskMessageAsync(string id) =>
        (string?)(await _server.Admin.GetJsonAsync($"v2/images/{id}/tasks"))["tasks"]!.AsArray().Single()!["message"];

    [Fact]
    public async Task The_copy_gets_the_data_formats_and_hardware_properties_of_the_remote_image()
    {
        var data = RandomNumberGenerator.GetBytes(300_000);
        var remote = await CreateAsync(new JsonObject
        {
            ["name"] = "remote", ["disk_format"] = "raw", ["container_format"] = "bare", ["hw_disk_bus"] = "virtio", ["owner_note"] = "not copied",
        });
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Admin.UploadAsync(remote, data)).StatusCode);
        var copy = await CreateAsync(new JsonObject { ["name"] = "copy", ["disk_format"] = "qcow2", ["container_format"] = "ovf" });

        Assert.Equal(HttpStatusCode.Accepted, await ImportAsync(copy, remote, "RegionTwo"));
        var image = await WaitAsync(copy, "active");

        Assert.Equal("active", (string?)image["status"]);
        Assert.Equal(("raw", "bare", "virtio"), ((string?)image["disk_format"], (string?)image["container_format"], (string?)image["hw_disk_bus"]));
        Assert.Null(image["owner_note"]);
        Assert.Equal(data, await _server.Admin.GetByteArrayAsync($"v2/images/{copy}/file"));
        Assert.Equal("", await TaskMessageAsync(copy));
    }

    [Fact]
    public async Task A_remote_image_that_does_not_exist_fails_the_task_naming_the_image_service_asked()
    {
        var copy = await CreateAsync(new JsonObject { ["name"] = "copy", ["disk_format"] = "raw", ["container_format"] = "bare" });
        var missing = Guid.NewGuid().ToString();

        Assert.Equal(HttpStatusCode.Accepted, await ImportAsync(copy, missing, "RegionTwo"));
        var image = await WaitAsync(copy, "queued");

        Assert.Equal("queued", (string?)image["status"]);
        Assert.Equal($"{_server.BaseUrl} answered 404 for image {missing}", await TaskMessageAsync(copy));
    }

    [Fact]
    public async Task A_region_without_an_image_service_fails_the_task_with_what_the_catalog_has()
    {
        var copy = await CreateAsync(new JsonObject { ["name"] = "copy", ["disk_format"] = "raw", ["container_format"] = "bare" });

        Assert.Equal(HttpStatusCode.Accepted, await ImportAsync(copy, Guid.NewGuid().ToString(), "RegionThree"));
        await WaitForTaskAsync(copy, "failure");

        // The image is queued again by the time its task says failure.
        Assert.Equal("queued", (string?)(await _server.Admin.GetJsonAsync($"v2/images/{copy}"))["status"]);
        var message = await TaskMessageAsync(copy);
        Assert.StartsWith("No public endpoint for service type 'image' in region 'RegionThree'", message, StringComparison.Ordinal);
        Assert.Contains("public in RegionTwo", message, StringComparison.Ordinal);
    }
}
