using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Stratus.Image.Tests;

/// <summary>Glance's tasks API: admins only, a legacy import task that makes an image from a URL, lists with filters and paging, no deletes.</summary>
public class TasksApiTests(ImageServer server) : IClassFixture<ImageServer>
{
    /// <summary>A web server on loopback serving <paramref name="data"/> at /image.raw, for the import to fetch.</summary>
    static async Task<(WebApplication App, string Url)> ServeAsync(byte[] data)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/image.raw", () => Results.Bytes(data, "application/octet-stream"));
        await app.StartAsync();
        return (app, app.Urls.Single() + "/image.raw");
    }

    static async Task<string> MessageAsync(HttpResponseMessage r) => (string?)(await r.Content.ReadFromJsonAsync<JsonObject>())!["message"] ?? "";

    static JsonObject ImportTask(string url, string name) => new()
    {
        ["type"] = "import",
        ["input"] = new JsonObject
        {
            ["import_from"] = url, ["import_from_format"] = "raw", ["image_properties"] = new JsonObject { ["name"] = name },
        },
    };

    [Fact]
    public async Task An_import_task_makes_an_active_image_from_its_url_and_shows_in_the_tasks_list()
    {
        var data = RandomNumberGenerator.GetBytes(5000);
        var (web, url) = await ServeAsync(data);
        await using var _ = web;
        var name = "from-task-" + Guid.NewGuid().ToString("N")[..6];

        var created = await server.Admin.PostAsJsonAsync("v2/tasks", ImportTask(url, name));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var task = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var id = (string)task["id"]!;
        Assert.Equal($"/v2/tasks/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal("import", (string?)task["type"]);
        Assert.Equal(url, (string?)task["input"]!["import_from"]);
        Assert.Equal("/v2/schemas/task", (string?)task["schema"]);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((string?)task["status"] is "pending" or "processing")
        {
            Assert.True(DateTime.UtcNow < deadline, "the task did not finish: " + task.ToJsonString());
            await Task.Delay(100);
            task = await server.Admin.GetJsonAsync($"v2/tasks/{id}");
        }
        Assert.Equal("success", (string?)task["status"]);
        var imageId = (string)task["result"]!["image_id"]!;
        var image = await server.Admin.GetJsonAsync($"v2/images/{imageId}");
        Assert.Equal(name, (string?)image["name"]);
        Assert.Equal("active", (string?)image["status"]);
        Assert.Equal("raw", (string?)image["disk_format"]);
        Assert.Equal(data.Length, (int)image["size"]!);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), (string?)image["checksum"]);

        var listed = await server.Admin.GetJsonAsync("v2/tasks?type=import");
        var stub = listed["tasks"]!.AsArray().Single(t => (string?)t!["id"] == id)!;
        Assert.Equal("success", (string?)stub["status"]);
        Assert.False(stub.AsObject().ContainsKey("input"));
        Assert.Equal("/v2/tasks?type=import", (string?)listed["first"]);
        Assert.Equal("tasks", (string?)(await server.Admin.GetJsonAsync("v2/schemas/tasks"))["name"]);

        var delete = await server.Admin.DeleteAsync($"v2/tasks/{id}");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, delete.StatusCode);
        Assert.Equal("GET", delete.Content.Headers.Allow.Single());
    }

    [Fact]
    public async Task Tasks_page_by_marker_and_an_images_import_is_a_task_too()
    {
        var data = RandomNumberGenerator.GetBytes(100);
        var (web, url) = await ServeAsync(data);
        await using var _ = web;
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add((string)(await (await server.Admin.PostAsJsonAsync("v2/tasks", ImportTask(url, $"page-{i}"))).Content.ReadFromJsonAsync<JsonObject>())!["id"]!);
        var imageId = (string)(await server.Admin.CreateImageAsync(new JsonObject { ["name"] = "web", ["disk_format"] = "raw", ["container_format"] = "bare" }))["id"]!;
        var import = await server.Admin.PostAsJsonAsync($"v2/images/{imageId}/import", new JsonObject { ["method"] = new JsonObject { ["name"] = "web-download", ["uri"] = url } });
        Assert.Equal(HttpStatusCode.Accepted, import.StatusCode);

        // Page through every task, two at a time, oldest first: each once, in order.
        var seen = new List<string>();
        var next = "v2/tasks?limit=2&sort_dir=asc";
        while (next is not null)
        {
            var page = await server.Admin.GetJsonAsync(next);
            seen.AddRange(page["tasks"]!.AsArray().Select(t => (string)t!["id"]!));
            next = ((string?)page["next"])?.TrimStart('/');
        }
        Assert.Equal(seen.Count, seen.Distinct().Count());
        var mine = seen.Where(ids.Contains).ToList();
        Assert.Equal(ids, mine);
        var all = await server.Admin.GetJsonAsync("v2/tasks?limit=1000");
        Assert.Contains(all["tasks"]!.AsArray(), t => (string?)t!["type"] == "api_image_import");
    }

    [Fact]
    public async Task Members_may_not_use_the_tasks_api_and_bad_requests_are_400s()
    {
        var (member, _) = await server.NewProjectUserAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync("v2/tasks")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.PostAsJsonAsync("v2/tasks", ImportTask("http://127.0.0.1:1/x", "no"))).StatusCode);

        foreach (var (query, message) in new[]
        {
            ("status=bogus", "Invalid status value: bogus"), ("type=copy", "Invalid type value: copy"),
            ("sort_dir=up", "Invalid sort direction: up"), ("limit=-1", "limit param must be positive"), ("marker=nope", "Invalid marker format"),
        })
        {
            var r = await server.Admin.GetAsync("v2/tasks?" + query);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains(message, await MessageAsync(r));
        }
        var noInput = await server.Admin.PostAsJsonAsync("v2/tasks", new JsonObject { ["type"] = "import" });
        Assert.Equal(HttpStatusCode.BadRequest, noInput.StatusCode);
        Assert.Contains("Task 'input' is required", await MessageAsync(noInput));
        var ftp = await server.Admin.PostAsJsonAsync("v2/tasks", ImportTask("ftp://127.0.0.1/x", "ftp"));
        Assert.Equal(HttpStatusCode.BadRequest, ftp.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.GetAsync($"v2/tasks/{Guid.NewGuid()}")).StatusCode);
    }
}
