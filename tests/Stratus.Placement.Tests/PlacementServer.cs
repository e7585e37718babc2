using Stratus.Core.Modules;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Core.Auth;
using Stratus.Identity;
using Stratus.Identity.Tests.Infrastructure;

namespace Stratus.Placement.Tests;

/// <summary>A real placement service on 127.0.0.1 trusting a real identity, with its placement service user.</summary>
public class PlacementServer : IAsyncLifetime
{
    readonly string _dir = Directory.CreateTempSubdirectory("stratus-placement-").FullName;
    WebApplication? _app;

    public IdentityServer Identity { get; } = new();
    public string Url { get; private set; } = "";

    /// <summary>An operator's policy.yaml beside placement.conf; null leaves Placement's default rules alone.</summary>
    protected virtual string? PolicyYaml => null;

    public async Task InitializeAsync()
    {
        await Identity.InitializeAsync();
        await using (var db = IdentityService.OpenDatabase(Identity.Options))
            await Bootstrap.RegisterServiceAsync(db, new ServiceRegistration("placement", "placement", null, IdentityServer.Region, "http://127.0.0.1:9", "placement", "placement-pw"),
                Identity.Options.PasswordHashRounds);
        if (PolicyYaml is not null) await File.WriteAllTextAsync(Path.Combine(_dir, "policy.yaml"), PolicyYaml);
        var options = new PlacementOptions
        {
            ConfigPath = Path.Combine(_dir, "placement.conf"),
            BindHost = "127.0.0.1",
            BindPort = 0,
            DatabaseConnection = $"sqlite:///{Path.Combine(_dir, "placement.db")}",
            Authtoken = new KeystoneAuthtokenOptions
            {
                WwwAuthenticateUri = Identity.BaseUrl, AuthUrl = Identity.BaseUrl, Username = "placement", Password = "placement-pw", ProjectName = "service",
                RegionName = IdentityServer.Region, Source = "placement.conf [keystone_authtoken]",
            },
            PolicyFile = Path.Combine(_dir, "policy.yaml"),
        };
        await new PlacementModule().SyncDatabaseAsync(options);
        _app = PlacementModule.Build(options);
        await _app.StartAsync();
        Url = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
    }

    public HttpClient Client(string? token, string? version = "1.39")
    {
        var c = new HttpClient { BaseAddress = new Uri(Url + "/") };
        if (token is not null) c.DefaultRequestHeaders.Add("X-Auth-Token", token);
        if (version is not null) c.DefaultRequestHeaders.Add("OpenStack-API-Version", "placement " + version);
        return c;
    }

    public HttpClient Admin(string version = "1.39") => Client(Identity.AdminToken, version);

    public async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        await Identity.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

static class Http
{
    public static async Task<JsonObject> JsonAsync(this HttpResponseMessage r) => JsonNode.Parse(await r.Content.ReadAsStringAsync())!.AsObject();

    public static async Task<HttpResponseMessage> PutJsonAsync(this HttpClient c, string path, JsonNode body) => await c.PutAsJsonAsync(path, body);
}
