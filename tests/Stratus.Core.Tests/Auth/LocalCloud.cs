using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stratus.Core.Auth;

namespace Stratus.Core.Tests.Auth;

/// <summary>
/// An identity and one peer service on a real Kestrel (127.0.0.1:0): the identity issues tokens
/// <c>token-1</c>, <c>token-2</c>... whose catalog has the peer (type <c>peer</c>) internal in RegionOne and
/// public in RegionTwo; the peer answers what <see cref="PeerAnswer"/> says and records what it was sent.
/// </summary>
sealed class LocalCloud : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly Lock _lock = new();
    readonly List<(string Query, JsonObject Body)> _logins = [];
    readonly List<(string Path, string? Token, string Body)> _peerRequests = [];

    /// <summary>The identity's answer to a login; null issues a token.</summary>
    public Func<HttpContext, Task<bool>>? LoginAnswer { get; set; }
    /// <summary>The peer's status for its n-th request (1-based).</summary>
    public Func<int, int> PeerAnswer { get; set; } = _ => 200;

    public string Url { get; }

    /// <summary>Makes the identity answer every login with this status and body, and no token.</summary>
    public void AnswerLogins(int status, string body = "") => LoginAnswer = async http =>
    {
        http.Response.StatusCode = status;
        await http.Response.WriteAsync(body);
        return true;
    };

    LocalCloud(WebApplication app)
    {
        _app = app;
        Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public IReadOnlyList<(string Query, JsonObject Body)> Logins { get { lock (_lock) return [.. _logins]; } }
    public IReadOnlyList<(string Path, string? Token, string Body)> PeerRequests { get { lock (_lock) return [.. _peerRequests]; } }

    public static async Task<LocalCloud> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        LocalCloud? cloud = null;
        app.MapPost("/v3/auth/tokens", (HttpContext http) => cloud!.LoginAsync(http));
        app.Map("/peer/{**rest}", (HttpContext http) => cloud!.PeerAsync(http));
        await app.StartAsync();
        return cloud = new LocalCloud(app);
    }

    public KeystoneAuthtokenOptions ServiceUser(string? region = "RegionOne") => new()
    {
        WwwAuthenticateUri = Url,
        AuthUrl = Url,
        Username = "nova",
        Password = "nova-secret",
        ProjectName = "service",
        RegionName = region,
        Interface = "internal",
        Source = "nova.conf [placement]",
    };

    async Task LoginAsync(HttpContext http)
    {
        var body = (JsonObject)(await JsonNode.ParseAsync(http.Request.Body))!;
        int n;
        lock (_lock)
        {
            _logins.Add((http.Request.QueryString.Value ?? "", body));
            n = _logins.Count;
        }
        if (LoginAnswer is { } answer && await answer(http)) return;
        http.Response.StatusCode = 201;
        http.Response.Headers["X-Subject-Token"] = $"token-{n}";
        await http.Response.WriteAsJsonAsync(new JsonObject
        {
            ["token"] = new JsonObject
            {
                ["expires_at"] = "2099-01-02T03:04:05.000000Z",
                ["project"] = new JsonObject { ["id"] = "p-service", ["name"] = "service" },
                ["catalog"] = Catalog(Url),
            },
        });
    }

    public static JsonArray Catalog(string url) =>
    [
        new JsonObject
        {
            ["type"] = "peer",
            ["endpoints"] = new JsonArray(
                new JsonObject { ["interface"] = "internal", ["region_id"] = "RegionOne", ["url"] = url + "/peer/one" },
                new JsonObject { ["interface"] = "public", ["region_id"] = "RegionTwo", ["url"] = url + "/peer/two/" }),
        },
    ];

    async Task PeerAsync(HttpContext http)
    {
        var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
        int n;
        lock (_lock)
        {
            _peerRequests.Add((http.Request.Path + http.Request.QueryString, http.Request.Headers["X-Auth-Token"].ToString(), body));
            n = _peerRequests.Count;
        }
        http.Response.StatusCode = PeerAnswer(n);
        await http.Response.WriteAsync($"answer {n}");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>A test class with a fresh <see cref="LocalCloud"/> per test.</summary>
public abstract class LocalCloudTests : IAsyncLifetime
{
    private protected LocalCloud Cloud { get; private set; } = null!;
    protected HttpClient Http { get; } = new();

    public async Task InitializeAsync() => Cloud = await LocalCloud.StartAsync();

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Cloud.DisposeAsync();
    }

    /// <summary>A port nothing listens on.</summary>
    protected static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
