using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Core.Auth;
using Stratus.Core.Config;
using Stratus.Core.Hosting;
using Stratus.Core.Http;
using Stratus.Core.Operations;
using Stratus.Core.Tests.Auth;

namespace Stratus.Core.Tests.Operations;

/// <summary>
/// /healthcheck and /metrics as every service serves them, over real HTTP: a service whose token check
/// refuses every request without <c>X-Auth-Token: good</c>, with a SQLite database and an identity.
/// </summary>
public sealed class OperationsEndpointsTests : LocalCloudTests, IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("stratus-ops-").FullName;

    string DbPath => Path.Combine(_dir, "service.db");

    async Task<(WebApplication App, HttpClient Client)> StartAsync(OperationsOptions? operations = null, string? identity = null)
    {
        await using (var db = new SqliteConnection($"Data Source={DbPath}"))
        {
            await db.OpenAsync();
            await using var create = db.CreateCommand();
            create.CommandText = "CREATE TABLE IF NOT EXISTS things (id TEXT)";
            await create.ExecuteNonQueryAsync();
        }
        var builder = ServiceHost.CreateBuilder("127.0.0.1", 0, null, operations);
        builder.Services.AddSingleton<ErrorBodyWriter>(ErrorBodies.Keystone);
        builder.Services.AddDatabaseHealthCheck($"sqlite:///{DbPath}");
        if (identity is not null) builder.Services.AddAuthToken(Cloud.ServiceUser() with { AuthUrl = identity });
        var app = builder.Build();
        app.UseServicePipeline(a => a.Use((http, next) =>
            http.Request.Headers["X-Auth-Token"] == "good" ? next(http) : throw OpenStackError.Unauthorized()));
        app.MapGet("/things/{id}", (string id) => $"thing {id}");
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new HttpClient { BaseAddress = new Uri(url) });
    }

    static async Task<(HttpStatusCode Status, string? Type, string Body)> GetAsync(HttpClient client, string path, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        using var response = await client.SendAsync(request);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Healthcheck_answers_OK_without_a_token_and_503_naming_the_database_when_it_is_gone()
    {
        var (app, client) = await StartAsync();
        await using var _ = app;
        Assert.Equal((HttpStatusCode.OK, "text/plain", "OK"), await GetAsync(client, "/healthcheck"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/things/1")).Status);

        File.Move(DbPath, DbPath + ".moved");
        var (status, type, body) = await GetAsync(client, "/healthcheck");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("text/plain", type);
        Assert.StartsWith($"The database (sqlite:///{DbPath}) is unreachable: ", body);
        var json = await GetAsync(client, "/healthcheck", "application/json");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "application/json"), (json.Status, json.Type));
        var doc = JsonNode.Parse(json.Body)!;
        Assert.False((bool)doc["detailed"]!);
        Assert.Equal(body, (string?)doc["reasons"]![0]);
        var html = await GetAsync(client, "/healthcheck", "text/html");
        Assert.Equal("text/html", html.Type);
        Assert.Contains("<TD>The database (", html.Body);
        using (var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/healthcheck")))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, head.StatusCode);

        File.Move(DbPath + ".moved", DbPath);
        Assert.Equal("""
            {
                "detailed": false,
                "reasons": [
                    "OK"
                ]
            }
            """, (await GetAsync(client, "/healthcheck", "application/json")).Body);
        using (var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/healthcheck")))
            Assert.Equal(HttpStatusCode.NoContent, head.StatusCode);
    }

    [Fact]
    public async Task Healthcheck_names_the_identity_of_auth_url_when_it_does_not_answer()
    {
        var (up, upClient) = await StartAsync(identity: Cloud.Url);
        await using (up) Assert.Equal((HttpStatusCode.OK, "text/plain", "OK"), await GetAsync(upClient, "/healthcheck"));

        var dead = $"http://127.0.0.1:{ClosedPort()}/v3";
        var (app, client) = await StartAsync(identity: dead);
        await using var _ = app;
        var (status, _, body) = await GetAsync(client, "/healthcheck");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.StartsWith($"The identity service at {dead} (nova.conf [placement] auth_url) is unreachable: ", body);
    }

    [Fact]
    public async Task Healthcheck_is_disabled_while_the_file_of_disable_by_file_path_exists()
    {
        var file = Path.Combine(_dir, "disable");
        var (app, client) = await StartAsync(new OperationsOptions { DisableByFilePath = file });
        await using var _ = app;
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/healthcheck")).Status);
        await File.WriteAllTextAsync(file, "");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "text/plain", "DISABLED BY FILE"), await GetAsync(client, "/healthcheck"));
    }

    [Fact]
    public async Task Metrics_from_loopback_count_requests_by_route_and_status_without_a_token()
    {
        var (app, client) = await StartAsync();
        await using var _ = app;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/things/42");
        request.Headers.Add("X-Auth-Token", "good");
        Assert.Equal("thing 42", await (await client.SendAsync(request)).Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(client, "/things/43")).Status);
        // A method of the client's invention is counted as "other", not as a series of its own.
        for (var i = 0; i < 3; i++)
            using (await client.SendAsync(new HttpRequestMessage(new HttpMethod("MADEUP" + i), "/things/44"))) { }

        var (status, type, body) = await GetAsync(client, "/metrics");
        Assert.Equal((HttpStatusCode.OK, "text/plain"), (status, type));
        Assert.Contains("stratus_http_requests_total{method=\"GET\",route=\"/things/{id}\",code=\"200\"} 1\n", body);
        // Refused before routing: the token check comes first.
        Assert.Contains("stratus_http_requests_total{method=\"GET\",route=\"unmatched\",code=\"401\"} 1\n", body);
        Assert.Contains("stratus_http_request_duration_seconds_count{method=\"GET\",route=\"/things/{id}\",code=\"200\"} 1\n", body);
        Assert.Contains("stratus_http_requests_total{method=\"other\",route=\"unmatched\",code=\"401\"} 3\n", body);
        Assert.DoesNotContain("MADEUP", body);
        Assert.DoesNotContain("dotnet_", body);
        Assert.DoesNotContain("process_", body);
    }

    [Fact]
    public async Task Metrics_are_refused_to_a_client_outside_allowed_source_ranges()
    {
        var ini = IniFile.Parse("[metrics]\nallowed_source_ranges = 192.0.2.0/24, 2001:db8::/32\n", "glance-api.conf");
        var (app, client) = await StartAsync(OperationsOptions.FromIni(ini));
        await using var _ = app;
        var (status, _, body) = await GetAsync(client, "/metrics");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("[metrics] allowed_source_ranges", body);
        Assert.DoesNotContain("stratus_http_requests_total", body);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/healthcheck")).Status);
    }

    [Theory]
    [InlineData("192.0.2.1", 403)]
    [InlineData("::ffff:10.0.0.1", 403)]
    [InlineData("127.0.0.1", 200)]
    [InlineData("::1", 200)]
    public async Task Metrics_are_served_by_default_to_loopback_clients_only(string client, int expected)
    {
        var services = new ServiceCollection().AddLogging().AddSingleton<ServiceMetrics>().BuildServiceProvider();
        var middleware = new OperationsMiddleware(_ => throw new InvalidOperationException("not for /metrics"),
            services.GetRequiredService<ServiceMetrics>(), OperationsOptions.Default, [], services);
        var http = new DefaultHttpContext { RequestServices = services };
        http.Request.Method = "GET";
        http.Request.Path = "/metrics";
        http.Connection.RemoteIpAddress = IPAddress.Parse(client);
        http.Response.Body = new MemoryStream();
        await middleware.InvokeAsync(http);
        Assert.Equal(expected, http.Response.StatusCode);
        var body = System.Text.Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray());
        Assert.Equal(expected == 200, body.Contains("stratus_http_requests_total", StringComparison.Ordinal));
    }

    [Fact]
    public void Allowed_source_ranges_default_to_loopback_and_take_networks_and_single_addresses()
    {
        var loopback = OperationsOptions.FromIni(IniFile.Parse("[DEFAULT]\n"));
        Assert.True(loopback.MayReadMetrics(IPAddress.Parse("127.0.0.1")));
        Assert.True(loopback.MayReadMetrics(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.True(loopback.MayReadMetrics(IPAddress.IPv6Loopback));
        Assert.False(loopback.MayReadMetrics(IPAddress.Parse("192.0.2.1")));
        Assert.False(loopback.MayReadMetrics(null));

        var set = OperationsOptions.FromIni(IniFile.Parse("[metrics]\nallowed_source_ranges = 10.0.0.0/8, 192.0.2.7\n"));
        Assert.True(set.MayReadMetrics(IPAddress.Parse("10.1.2.3")));
        Assert.True(set.MayReadMetrics(IPAddress.Parse("192.0.2.7")));
        Assert.False(set.MayReadMetrics(IPAddress.Parse("192.0.2.8")));
        Assert.False(set.MayReadMetrics(IPAddress.Loopback));

        var e = Assert.Throws<ConfigException>(() => OperationsOptions.FromIni(IniFile.Parse("[metrics]\nallowed_source_ranges = localhost\n", "nova.conf")));
        Assert.Equal("nova.conf: [metrics] allowed_source_ranges: 'localhost' is not an address or a network (127.0.0.0/8, ::1/128, 192.0.2.7)", e.Message);
    }

    [Theory]
    [InlineData(null, "text/plain")]
    [InlineData("*/*", "text/plain")]
    [InlineData("application/json", "application/json")]
    [InlineData("text/*", "text/plain")]
    [InlineData("text/html, application/json;q=0.9", "text/html")]
    [InlineData("application/json, text/plain;q=0.5", "application/json")]
    [InlineData("image/png", "text/plain")]
    public void Healthcheck_answers_in_the_type_Accept_prefers_as_webob_picks_it(string? accept, string expected) =>
        Assert.Equal(expected, OperationsMiddleware.Negotiate(accept));

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
