using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Stratus.Core.Auth;
using Stratus.Core.Catalog;

namespace Stratus.Core.Tests.Auth;

/// <summary>The service user's session calling a peer: catalog lookup, X-Auth-Token, one new login on a 401.</summary>
public sealed class KeystoneSessionTests : LocalCloudTests
{
    static Func<Uri, HttpRequestMessage> Post(string path, string body) =>
        endpoint => new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, path)) { Content = JsonContent.Create(new JsonObject { ["n"] = body }) };

    [Fact]
    public async Task A_peer_that_rejects_the_token_once_gets_the_request_again_with_a_new_token()
    {
        Cloud.PeerAnswer = n => n == 1 ? 401 : 200;
        var session = new KeystoneSession(Cloud.ServiceUser(), Http);

        using var response = await session.SendAsync("peer", Post("things?x=a:b", "one"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("answer 2", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, Cloud.Logins.Count);
        Assert.Equal(
            [("/peer/one/things?x=a:b", "token-1", """{"n":"one"}"""), ("/peer/one/things?x=a:b", "token-2", """{"n":"one"}""")],
            Cloud.PeerRequests);
        Assert.Equal("token-2", (await session.GetTokenAsync()).Token);
    }

    [Fact]
    public async Task A_peer_that_always_rejects_the_token_is_asked_twice_and_its_401_returned()
    {
        Cloud.PeerAnswer = _ => 401;
        var session = new KeystoneSession(Cloud.ServiceUser(), Http);

        using var response = await session.SendAsync("peer", Post("things", "one"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("answer 2", await response.Content.ReadAsStringAsync());
        Assert.Equal(["token-1", "token-2"], Cloud.PeerRequests.Select(r => r.Token));
        Assert.Equal(2, Cloud.Logins.Count);
    }

    [Fact]
    public async Task The_service_token_is_kept_across_requests_and_sent_with_the_password_login_of_the_options()
    {
        var session = new KeystoneSession(Cloud.ServiceUser(), Http);

        for (var i = 0; i < 3; i++)
            using (var response = await session.SendAsync("peer", e => new HttpRequestMessage(HttpMethod.Get, new Uri(e, $"item/{i}"))))
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var login = Assert.Single(Cloud.Logins).Body;
        Assert.Equal("nova", (string?)login["auth"]!["identity"]!["password"]!["user"]!["name"]);
        Assert.Equal("service", (string?)login["auth"]!["scope"]!["project"]!["name"]);
        Assert.Equal(["/peer/one/item/0", "/peer/one/item/1", "/peer/one/item/2"], Cloud.PeerRequests.Select(r => r.Path));
        Assert.All(Cloud.PeerRequests, r => Assert.Equal("token-1", r.Token));
    }

    [Fact]
    public async Task Sessions_that_log_in_as_one_user_share_the_token_and_a_rejected_one_is_renewed_for_all()
    {
        // Nova's [placement] and neutron's [nova] in one node: the same user, other regions and sources.
        var placement = new KeystoneSession(Cloud.ServiceUser(), Http);
        var notifier = new KeystoneSession(Cloud.ServiceUser("RegionTwo") with { Source = "neutron.conf [nova]", Interface = "public" }, Http);
        var neutron = new KeystoneSession(Cloud.ServiceUser() with { Username = "neutron", Password = "neutron-secret" }, Http);

        var first = await placement.GetTokenAsync();
        Assert.Same(first, await notifier.GetTokenAsync());
        Assert.Equal("token-2", (await neutron.GetTokenAsync()).Token);
        Assert.Equal(["nova", "neutron"], Cloud.Logins.Select(l => (string?)l.Body["auth"]!["identity"]!["password"]!["user"]!["name"]));

        Cloud.PeerAnswer = n => n == 1 ? 401 : 200;
        using (var response = await notifier.SendAsync(new PeerEndpoint("peer"), e => new HttpRequestMessage(HttpMethod.Get, new Uri(e, "x")), HttpCompletionOption.ResponseContentRead, default))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("token-3", (await placement.GetTokenAsync()).Token);
        Assert.Equal("token-2", (await neutron.GetTokenAsync()).Token);
        Assert.Equal(3, Cloud.Logins.Count);
    }

    [Fact]
    public async Task The_endpoint_follows_the_interface_and_region_asked_for()
    {
        var session = new KeystoneSession(Cloud.ServiceUser(), Http);

        using (var response = await session.SendAsync(new PeerEndpoint("peer", "public", "RegionTwo"),
            e => new HttpRequestMessage(HttpMethod.Get, new Uri(e, "x")), HttpCompletionOption.ResponseHeadersRead, default))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var wrong = await Assert.ThrowsAsync<EndpointNotFoundException>(() =>
            session.SendAsync(new PeerEndpoint("peer", "public", "RegionOne"), e => new HttpRequestMessage(HttpMethod.Get, e), HttpCompletionOption.ResponseContentRead, default));

        Assert.Equal("/peer/two/x", Assert.Single(Cloud.PeerRequests).Path);
        Assert.Contains("region 'RegionOne'", wrong.Message, StringComparison.Ordinal);
        Assert.Equal(Cloud.Url + "/peer/one", await session.EndpointForAsync("peer"));
    }

    [Fact]
    public async Task A_caller_s_request_carries_their_token_and_catalog_and_is_not_retried()
    {
        Cloud.PeerAnswer = _ => 401;
        var session = new KeystoneSession(Cloud.ServiceUser(), Http);
        var caller = new Caller
        {
            Token = "user-token",
            UserId = "u1",
            UserName = "demo",
            ProjectId = "p1",
            Roles = new HashSet<string> { "member" },
            ExpiresAt = DateTimeOffset.UtcNow.AddHours(1),
            Catalog = new ServiceCatalog(LocalCloud.Catalog(Cloud.Url)),
        };

        using var response = await session.SendAsync(caller, new PeerEndpoint("peer", "public", "RegionTwo"),
            e => new HttpRequestMessage(HttpMethod.Get, new Uri(e, "images/1")), HttpCompletionOption.ResponseContentRead, default);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(("/peer/two/images/1", "user-token", ""), Assert.Single(Cloud.PeerRequests));
        Assert.Empty(Cloud.Logins);
    }

    [Fact]
    public async Task Rejected_service_credentials_name_the_section_to_fix()
    {
        Cloud.AnswerLogins(401);
        var session = new KeystoneSession(Cloud.ServiceUser(), Http);

        var e = await Assert.ThrowsAsync<ServiceCredentialsRejectedException>(() => session.SendAsync("peer", Post("x", "y")));

        Assert.Equal($"The identity service at {Cloud.Url}/v3/auth/tokens answered 401 to the service user 'nova' of nova.conf [placement]: " +
            "check username, password, project_name, user_domain_name and project_domain_name there.", e.Message);
        Assert.Empty(Cloud.PeerRequests);
    }

    [Fact]
    public async Task An_identity_error_or_silence_is_unreachable_with_the_url_tried()
    {
        Cloud.AnswerLogins(500);
        var failing = await Assert.ThrowsAsync<IdentityUnreachableException>(() => new KeystoneSession(Cloud.ServiceUser(), Http).GetTokenAsync());
        var port = ClosedPort();
        var silent = await Assert.ThrowsAsync<IdentityUnreachableException>(() =>
            new KeystoneSession(Cloud.ServiceUser() with { AuthUrl = $"http://127.0.0.1:{port}/v3" }, Http).GetTokenAsync());

        Assert.Equal($"The identity service at {Cloud.Url}/v3/auth/tokens could not be reached: it answered 500 to the service user's login", failing.Message);
        Assert.Equal($"http://127.0.0.1:{port}/v3/auth/tokens", silent.Url);
    }

    [Fact]
    public async Task A_peer_that_does_not_answer_is_unreachable_with_its_endpoint()
    {
        var port = ClosedPort();
        Cloud.LoginAnswer = async http =>
        {
            http.Response.StatusCode = 201;
            http.Response.Headers["X-Subject-Token"] = "t";
            await http.Response.WriteAsJsonAsync(new JsonObject
            {
                ["token"] = new JsonObject { ["expires_at"] = "2099-01-01T00:00:00Z", ["catalog"] = LocalCloud.Catalog($"http://127.0.0.1:{port}") },
            });
            return true;
        };
        var session = new KeystoneSession(Cloud.ServiceUser(), Http);

        var e = await Assert.ThrowsAsync<PeerUnreachableException>(() => session.SendAsync("peer", Post("x", "y")));

        Assert.Equal($"http://127.0.0.1:{port}/peer/one", e.Endpoint);
        Assert.StartsWith($"The peer service at http://127.0.0.1:{port}/peer/one could not be reached: ", e.Message, StringComparison.Ordinal);
    }
}
