using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Stratus.Image.Tests;

/// <summary>Token validation in front of a regional service, as keystonemiddleware's auth_token does it.</summary>
public class AuthTokenTests
{
    sealed class Server(Func<ImageOptions, ImageOptions> configure) : ImageServer
    {
        protected override ImageOptions Configure(ImageOptions options) => configure(options);
    }

    static async Task<ImageServer> StartAsync(Func<ImageOptions, ImageOptions>? configure = null, TimeProvider? time = null)
    {
        var s = new Server(configure ?? (o => o)) { Time = time ?? TimeProvider.System };
        await s.InitializeAsync();
        return s;
    }

    [Fact]
    public async Task No_token_gets_401_with_the_identity_to_authenticate_at()
    {
        var s = await StartAsync();
        try
        {
            var resp = await s.Anonymous.GetAsync("v2/images");
            Assert.Equal(HttpStatusCode.Unauthorized, resp.StatusCode);
            Assert.Equal($"Keystone uri=\"{s.Identity.BaseUrl}\"", resp.Headers.WwwAuthenticate.ToString());
            var body = JsonNode.Parse(await resp.Content.ReadAsStringAsync())!;
            Assert.Equal("The request you have made requires authentication.", (string?)body["message"]);
            Assert.Equal(HttpStatusCode.Unauthorized, (await s.NewClient("not-a-token").GetAsync("v2/images")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await s.Admin.GetAsync("v2/images")).StatusCode);
        }
        finally
        {
            await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_revoked_token_is_refused_once_its_cached_validation_is_stale()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var s = await StartAsync(o => o with { Authtoken = o.Authtoken with { TokenCacheTime = TimeSpan.FromSeconds(1) } }, clock);
        try
        {
            var token = await s.Identity.IssueTokenAsync("admin", IdentityServer.AdminPassword, project: "admin");
            var client = s.NewClient(token);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v2/images")).StatusCode);
            using var revoke = new HttpRequestMessage(HttpMethod.Delete, "v3/auth/tokens");
            revoke.Headers.Add("X-Subject-Token", token);
            Assert.Equal(HttpStatusCode.NoContent, (await s.Identity.Admin.SendAsync(revoke)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v2/images")).StatusCode); // still fresh in the cache
            clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("v2/images")).StatusCode);
        }
        finally
        {
            await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task When_the_identity_is_down_cached_tokens_still_work_and_others_get_503_naming_the_identity()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var s = await StartAsync(o => o with { Authtoken = o.Authtoken with { TokenCacheTime = TimeSpan.FromMilliseconds(200) } }, clock);
        try
        {
            var other = await s.Identity.IssueTokenAsync("admin", IdentityServer.AdminPassword, project: "admin");
            Assert.Equal(HttpStatusCode.OK, (await s.Admin.GetAsync("v2/images")).StatusCode);
            await s.Identity.StopAsync();
            clock.Advance(TimeSpan.FromMilliseconds(400));
            // Stale in the cache, but the token has not expired: it is still honoured.
            Assert.Equal(HttpStatusCode.OK, (await s.Admin.GetAsync("v2/images")).StatusCode);
            var resp = await s.NewClient(other).GetAsync("v2/images");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, resp.StatusCode);
            var message = (string?)JsonNode.Parse(await resp.Content.ReadAsStringAsync())!["message"];
            Assert.Contains(s.Identity.BaseUrl, message);
        }
        finally
        {
            await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_wrong_region_name_shows_as_503_naming_the_region()
    {
        var s = await StartAsync(o => o with { Authtoken = o.Authtoken with { RegionName = "RegionNine" } });
        try
        {
            var resp = await s.Admin.GetAsync("v2/images");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, resp.StatusCode);
            var message = (string?)JsonNode.Parse(await resp.Content.ReadAsStringAsync())!["message"];
            Assert.Contains("RegionNine", message);
            Assert.Contains("region_name", message);
        }
        finally
        {
            await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_wrong_service_password_shows_as_503_naming_the_keys_to_fix()
    {
        var s = await StartAsync(o => o with { Authtoken = o.Authtoken with { Password = "wrong" } });
        try
        {
            var resp = await s.Admin.GetAsync("v2/images");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, resp.StatusCode);
            var message = (string?)JsonNode.Parse(await resp.Content.ReadAsStringAsync())!["message"];
            Assert.Contains("glance", message);
            Assert.Contains("[keystone_authtoken]", message);
        }
        finally
        {
            await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task Validations_cached_in_memcached_serve_another_service_instance_while_the_identity_is_down()
    {
        await using var memcached = await MemcachedServer.StartAsync();
        var servers = new[] { memcached.Address };
        var s = await StartAsync(o => o with { Authtoken = o.Authtoken with { MemcachedServers = servers } });
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await s.Admin.GetAsync("v2/images")).StatusCode);
            await s.Identity.StopAsync();
            // A second instance of the service, with an empty memory, finds the validation in memcached.
            var dir = Directory.CreateTempSubdirectory("stratus-image2-").FullName;
            var options = ImageServer.NewOptions(s.Identity, dir) with { Authtoken = s.Options.Authtoken };
            await new ImageModule().SyncDatabaseAsync(options, upgrade: true);
            await using var second = ImageModule.Build(options);
            await second.StartAsync();
            var url = second.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var client = new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/") };
            client.DefaultRequestHeaders.Add("X-Auth-Token", s.Identity.AdminToken);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v2/images")).StatusCode);
            client.DefaultRequestHeaders.Remove("X-Auth-Token");
            client.DefaultRequestHeaders.Add("X-Auth-Token", "never-seen");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("v2/images")).StatusCode);
        }
        finally
        {
            await s.DisposeAsync();
        }
    }
}
