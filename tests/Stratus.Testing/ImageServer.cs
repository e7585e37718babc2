using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Core.Auth;
using Stratus.Identity;
using Stratus.Image;

namespace Stratus.Testing;

/// <summary>
/// A real image service trusting a real identity: an <see cref="IdentityServer"/>, and a node of its region
/// running the image service (port 9292 of its own address), registered in the identity's catalog with
/// its <c>glance</c> user by <c>node init</c>, its data and staging in the node's directory.
/// </summary>
public class ImageServer : IAsyncLifetime
{
    public IdentityServer Identity { get; } = new();
    public TestNode Node { get; private set; } = null!;
    public ImageOptions Options { get; private set; } = null!;
    public string BaseUrl { get; private set; } = "";
    public HttpClient Admin { get; private set; } = null!;
    public HttpClient Anonymous { get; private set; } = null!;

    /// <summary>The image service's clock (its token cache times); a test may pass a fake one and advance it.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Changes the image service's options before it starts (cache time, region, limits...).</summary>
    protected virtual ImageOptions Configure(ImageOptions options) => options;

    public async Task InitializeAsync()
    {
        await Identity.InitializeAsync();
        Node = await TestNode.InitAsync(TestNode.Services(m => m is IdentityModule or ImageModule), TestNode.NewSpec() with { IdentityUrl = Identity.Node.IdentityUrl });
        Node.Configure<ImageOptions>(Configure);
        Node.Time = Time;
        await Node.StartAsync();
        Options = Node.Options<ImageOptions>();
        BaseUrl = $"http://{Options.BindHost}:{Options.BindPort}";
        Admin = NewClient(Identity.AdminToken);
        Anonymous = NewClient(null);
    }

    /// <summary>Options for another image service in <paramref name="dir"/> on a free port of 127.0.0.1, as the <c>glance</c> user of <paramref name="identity"/>.</summary>
    public static ImageOptions NewOptions(IdentityServer identity, string dir) => new()
    {
        BindHost = "127.0.0.1",
        BindPort = 0,
        DatabaseConnection = $"sqlite:///{Path.Combine(dir, "glance.db")}",
        DataDir = Path.Combine(dir, "images"),
        StagingDir = Path.Combine(dir, "staging"),
        ConfigPath = Path.Combine(dir, "glance-api.conf"),
        Authtoken = new KeystoneAuthtokenOptions
        {
            WwwAuthenticateUri = identity.BaseUrl,
            AuthUrl = identity.BaseUrl,
            Username = "glance",
            Password = IdentityServer.AdminPassword,
            ProjectName = "service",
            RegionName = IdentityServer.Region,
            Source = Path.Combine(dir, "glance-api.conf") + " [keystone_authtoken]",
        },
    };

    public HttpClient NewClient(string? token) => TestHttp.Client(BaseUrl, token);

    /// <summary>A member (or other role) of a new project, with a client of the image API.</summary>
    public async Task<(HttpClient Client, string ProjectId)> NewProjectUserAsync(string role = "member")
    {
        var (identityClient, _, projectId) = await Identity.NewProjectUserAsync(role);
        var token = identityClient.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        return (NewClient(token), projectId);
    }

    public string DataFile(string imageId) => Path.Combine(Options.DataDir, imageId);

    public async Task DisposeAsync()
    {
        if (Node is not null) await Node.DisposeAsync();
        Admin?.Dispose();
        Anonymous?.Dispose();
        await Identity.DisposeAsync();
    }
}

public static class ImageClient
{
    /// <summary>Creates an image, expecting 201, returning its JSON.</summary>
    public static async Task<JsonObject> CreateImageAsync(this HttpClient c, JsonObject body)
    {
        var resp = await c.PostAsJsonAsync("v2/images", body);
        var text = await resp.Content.ReadAsStringAsync();
        if ((int)resp.StatusCode != 201) throw new InvalidOperationException($"image create failed: {(int)resp.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<HttpResponseMessage> UploadAsync(this HttpClient c, string id, byte[] data)
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await c.PutAsync($"v2/images/{id}/file", content);
    }

    public static async Task<HttpResponseMessage> PatchAsync(this HttpClient c, string id, string ops, string mediaType = "application/openstack-images-v2.1-json-patch")
    {
        var content = new StringContent(ops);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return await c.PatchAsync($"v2/images/{id}", content);
    }

    public static async Task<JsonObject> GetJsonAsync(this HttpClient c, string path)
    {
        var resp = await c.GetAsync(path);
        var text = await resp.Content.ReadAsStringAsync();
        if (!resp.IsSuccessStatusCode) throw new InvalidOperationException($"GET {path} failed: {(int)resp.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }
}
