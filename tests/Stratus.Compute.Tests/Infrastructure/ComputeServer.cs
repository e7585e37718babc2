using Stratus.Core.Modules;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Core.Auth;
using Stratus.Core.Messaging;
using Stratus.Identity;
using Stratus.Identity.Tests.Infrastructure;
using Stratus.Image.Tests.Infrastructure;

namespace Stratus.Compute.Tests.Infrastructure;

/// <summary>
/// A whole region's compute on 127.0.0.1: the identity and image services (<see cref="ImageServer"/>),
/// and Nova with every service (API, scheduler, conductor, one compute agent with the fake driver) on an
/// in-process bus of its own, its nova/placement users registered in the identity.
/// </summary>
public class ComputeServer : ImageServer
{
    readonly string _dir = Directory.CreateTempSubdirectory("stratus-compute-").FullName;
    IHost? _nova;

    public NovaOptions Nova { get; private set; } = null!;
    public string ComputeUrl { get; private set; } = "";
    public HttpClient ComputeAdmin { get; private set; } = null!;

    /// <summary>An operator's policy.yaml beside nova.conf; null leaves Nova's default rules alone.</summary>
    protected virtual string? PolicyYaml => null;

    /// <summary>Placement's URL for Nova's [placement]; null leaves placement unconfigured.</summary>
    protected virtual Task<string?> StartPlacementAsync() => Task.FromResult<string?>(null);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using (var db = IdentityService.OpenDatabase(Identity.Options))
            foreach (var user in new[] { "nova", "placement" })
                await Bootstrap.RegisterServiceAsync(db, new ServiceRegistration(user == "nova" ? "compute" : "placement", user, null, IdentityServer.Region,
                    "http://127.0.0.1:9/unused", user, ServicePassword), Identity.Options.PasswordHashRounds);
        var placementUrl = await StartPlacementAsync();
        if (PolicyYaml is not null) await File.WriteAllTextAsync(Path.Combine(_dir, "policy.yaml"), PolicyYaml);
        KeystoneAuthtokenOptions User(string name) => Options.Authtoken with { Username = name, Source = $"nova.conf [{name}]" };
        Nova = new NovaOptions
        {
            ConfigPath = Path.Combine(_dir, "nova.conf"),
            Host = "compute-test",
            MyIp = "127.0.0.1",
            TransportUrl = "inproc://test-" + Guid.NewGuid().ToString("N"),
            ListenAddress = "127.0.0.1",
            ListenPort = 0,
            ApiDatabase = $"sqlite:///{Path.Combine(_dir, "nova_api.db")}",
            Database = $"sqlite:///{Path.Combine(_dir, "nova.db")}",
            Authtoken = User("nova"),
            Placement = placementUrl is null ? null : User("placement"),
            PlacementError = placementUrl is null ? "[placement] is not configured" : null,
            GlanceApiServers = [BaseUrl],
            ComputeDriver = "fake.FakeDriver",
            InstancesPath = Path.Combine(_dir, "instances"),
            ReportInterval = TimeSpan.FromMilliseconds(300),
            ServiceDownTime = TimeSpan.FromSeconds(3),
            PolicyFile = Path.Combine(_dir, "policy.yaml"),
        };
        if (placementUrl is not null)
            await using (var db = IdentityService.OpenDatabase(Identity.Options))
                await Bootstrap.RegisterServiceAsync(db, new ServiceRegistration("placement", "placement", null, IdentityServer.Region, placementUrl),
                    Identity.Options.PasswordHashRounds);
        await new ComputeModule().SyncDatabaseAsync(Nova);
        _nova = ComputeModule.Build(Nova, MessageBus.FromTransportUrl(Nova.TransportUrl));
        await _nova.StartAsync();
        ComputeUrl = _nova.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        ComputeAdmin = ComputeClient(Identity.AdminToken);
        await WaitForHypervisorAsync();
    }

    /// <summary>The compute agent registers its host in the background: tests start once it has.</summary>
    async Task WaitForHypervisorAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await ComputeAdmin.GetFromJsonAsync<JsonObject>("os-hypervisors"))?["hypervisors"]?.AsArray().Count is not > 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{Nova.Host} registered no hypervisor within 30 s");
            await Task.Delay(50);
        }
    }

    public HttpClient ComputeClient(string? token, string? microversion = null)
    {
        var c = new HttpClient { BaseAddress = new Uri(ComputeUrl + "/v2.1/") };
        if (token is not null) c.DefaultRequestHeaders.Add("X-Auth-Token", token);
        if (microversion is not null) c.DefaultRequestHeaders.Add("OpenStack-API-Version", "compute " + microversion);
        c.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return c;
    }

    /// <summary>A member of a new project, with a compute client at <paramref name="microversion"/>.</summary>
    public async Task<(HttpClient Compute, HttpClient Image, string ProjectId)> NewComputeUserAsync(string microversion = "2.1", string role = "member")
    {
        var (image, projectId) = await NewProjectUserAsync(role);
        var token = image.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        return (ComputeClient(token, microversion), image, projectId);
    }

    /// <summary>An active image of a few bytes (the fake driver boots anything).</summary>
    public async Task<string> NewImageAsync(HttpClient image, string visibility = "private")
    {
        var id = (string)(await image.CreateImageAsync(new JsonObject
        {
            ["name"] = "img-" + Guid.NewGuid().ToString("N")[..6], ["disk_format"] = "qcow2", ["container_format"] = "bare", ["visibility"] = visibility,
        }))["id"]!;
        (await image.UploadAsync(id, [1, 2, 3, 4])).EnsureSuccessStatusCode();
        return id;
    }

    public override async Task DisposeAsync()
    {
        if (_nova is not null)
        {
            await _nova.StopAsync();
            _nova.Dispose();
        }
        ComputeAdmin?.Dispose();
        await base.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

public static class ComputeJson
{
    public static async Task<JsonObject> JsonAsync(this HttpResponseMessage r)
    {
        var text = await r.Content.ReadAsStringAsync();
        return JsonNode.Parse(text)?.AsObject() ?? throw new InvalidOperationException("empty body: " + (int)r.StatusCode);
    }

    public static async Task<JsonObject> PostJsonAsync(this HttpClient c, string path, JsonObject body, int expect)
    {
        var r = await c.PostAsJsonAsync(path, body);
        var text = await r.Content.ReadAsStringAsync();
        if ((int)r.StatusCode != expect) throw new InvalidOperationException($"POST {path}: {(int)r.StatusCode} {text}");
        return text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject();
    }
}
