using Stratus.Core.Modules;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Core.Auth;
using Stratus.Identity;
using Stratus.Identity.Tests.Infrastructure;

namespace Stratus.Image.Tests.Infrastructure;

/// <summary>
/// A real image service on 127.0.0.1 (a free port), validating tokens against a real identity
/// service (<see cref="IdentityServer"/>) that has the image service and its <c>glance</c> user in
/// its catalog, as <c>node init</c> registers them. Data and staging live in a temporary directory.
/// </summary>
public class ImageServer : IAsyncLifetime
{
    public const string ServicePassword = "glance-pw";
    readonly string _dir = Directory.CreateTempSubdirectory("stratus-image-").FullName;
    WebApplication? _app;

    public IdentityServer Identity { get; } = new();
    public ImageOptions Options { get; private set; } = null!;
    public string BaseUrl { get; private set; } = "";
    public HttpClient Admin { get; private set; } = null!;
    public HttpClient Anonymous { get; private set; } = null!;

    /// <summary>The image service's clock (its token cache times); a test may pass a fake one and advance it.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Changes the image service's options before it starts (cache time, region, limits...).</summary>
    protected virtual ImageOptions Configure(ImageOptions options) => options;

    public virtual async Task InitializeAsync()
    {
        await Identity.InitializeAsync();
        Options = Configure(NewOptions(Identity, _dir));
        await new ImageModule().SyncDatabaseAsync(Options);
        _app = ImageModule.Build(Options, b => b.Services.AddSingleton(Time));
        await _app.StartAsync();
        BaseUrl = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        await RegisterAsync(Identity, BaseUrl);
        Admin = NewClient(Identity.AdminToken);
        Anonymous = NewClient(null);
    }

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
            Password = ServicePassword,
            ProjectName = "service",
            RegionName = IdentityServer.Region,
            Source = Path.Combine(dir, "glance-api.conf") + " [keystone_authtoken]",
        },
    };

    /// <summary>The image service and its user in the identity's catalog, as node init does.</summary>
    public static async Task RegisterAsync(IdentityServer identity, string url, string region = IdentityServer.Region)
    {
        await using var db = IdentityService.OpenDatabase(identity.Options);
        await Bootstrap.RegisterServiceAsync(db, new ServiceRegistration("image", "glance", "OpenStack Image", region, url, "glance", ServicePassword),
            identity.Options.PasswordHashRounds);
    }

    public HttpClient NewClient(string? token)
    {
        var c = new HttpClient { BaseAddress = new Uri(BaseUrl + "/") };
        if (token is not null) c.DefaultRequestHeaders.Add("X-Auth-Token", token);
        c.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return c;
    }

    /// <summary>A member (or other role) of a new project, with a client of the image API.</summary>
    public async Task<(HttpClient Client, string ProjectId)> NewProjectUserAsync(string role = "member")
    {
        var (identityClient, _, projectId) = await Identity.NewProjectUserAsync(role);
        var token = identityClient.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        return (NewClient(token), projectId);
    }

    public string DataFile(string imageId) => Path.Combine(Options.DataDir, imageId);

    public virtual async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        Admin?.Dispose();
        Anonymous?.Dispose();
        await Identity.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
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
