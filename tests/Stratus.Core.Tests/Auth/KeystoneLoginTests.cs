using Stratus.Core.Auth;

namespace Stratus.Core.Tests.Auth;

/// <summary>The v3 password login every Stratus client of the identity uses, against a real HTTP server.</summary>
public sealed class KeystoneLoginTests : LocalCloudTests
{
    static readonly PasswordUser Nova = new("nova", DomainRef.Named("Default"), "nova-secret");

    [Fact]
    public async Task A_project_scoped_login_sends_the_password_body_and_reads_token_expiry_and_catalog()
    {
        var token = await new KeystoneLogin(Http, Cloud.Url + "/").PasswordAsync(Nova, LoginScope.Project("service", DomainRef.Named("Default")),
            withCatalog: true, default);

        var (query, body) = Assert.Single(Cloud.Logins);
        Assert.Equal("", query);
        Assert.Equal("""
            {"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"nova","domain":{"name":"Default"},"password":"nova-secret"}}},"scope":{"project":{"name":"service","domain":{"name":"Default"}}}}}
            """, body.ToJsonString());
        Assert.Equal("token-1", token.Id);
        Assert.Equal(new DateTimeOffset(2099, 1, 2, 3, 4, 5, TimeSpan.Zero), token.ExpiresAt);
        Assert.Equal("p-service", token.ProjectId);
        Assert.Equal(Cloud.Url + "/peer/two/", token.Catalog.EndpointFor("peer", "public", "RegionTwo"));
        Assert.DoesNotContain("token-1", token.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("nova-secret", Nova.ToString(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string?> Scopes => new()
    {
        { "unscoped", null },
        { "system", """{"system":{"all":true}}""" },
        { "domain", """{"domain":{"id":"default"}}""" },
        { "project id", """{"project":{"id":"p1"}}""" },
        { "project by domain id", """{"project":{"name":"admin","domain":{"id":"default"}}}""" },
    };

    static LoginScope Scope(string name) => name switch
    {
        "unscoped" => LoginScope.Unscoped,
        "system" => LoginScope.System,
        "domain" => LoginScope.Domain(DomainRef.ById("default")),
        "project id" => LoginScope.ProjectById("p1"),
        _ => LoginScope.Project("admin", DomainRef.ById("default")),
    };

    [Theory]
    [MemberData(nameof(Scopes))]
    public async Task Each_scope_is_sent_as_keystone_reads_it(string scope, string? expected)
    {
        await new KeystoneLogin(Http, Cloud.Url + "/v3").PasswordAsync(Nova, Scope(scope), withCatalog: false, default);

        var (query, body) = Assert.Single(Cloud.Logins);
        Assert.Equal("?nocatalog", query);
        Assert.Equal(expected, body["auth"]!["scope"]?.ToJsonString());
    }

    [Fact]
    public async Task Rescoping_sends_the_token_method()
    {
        await new KeystoneLogin(Http, Cloud.Url).RescopeAsync("unscoped-token", LoginScope.ProjectById("p1"), default);

        Assert.Equal("""
            {"auth":{"identity":{"methods":["token"],"token":{"id":"unscoped-token"}},"scope":{"project":{"id":"p1"}}}}
            """, Assert.Single(Cloud.Logins).Body.ToJsonString());
    }

    [Fact]
    public async Task A_refused_login_carries_the_status_and_the_identitys_answer()
    {
        Cloud.AnswerLogins(401, """{"error": {"message": "The request you have made requires authentication."}}""");

        var e = await Assert.ThrowsAsync<KeystoneLoginException>(() => new KeystoneLogin(Http, Cloud.Url).PasswordAsync(Nova, LoginScope.Unscoped, true, default));

        Assert.Equal(401, e.Status);
        Assert.False(e.Unreachable);
        Assert.Equal(Cloud.Url + "/v3/auth/tokens", e.Url);
        Assert.Contains("requires authentication", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_answer_without_a_token_is_a_failure_with_its_success_status()
    {
        Cloud.AnswerLogins(201, """{"token": {"expires_at": "2099-01-01T00:00:00Z"}}""");

        var e = await Assert.ThrowsAsync<KeystoneLoginException>(() => new KeystoneLogin(Http, Cloud.Url).PasswordAsync(Nova, LoginScope.Unscoped, true, default));

        Assert.Equal(201, e.Status);
        Assert.Equal("the answer has no token", e.Detail);
    }

    [Fact]
    public async Task An_identity_that_does_not_answer_is_unreachable()
    {
        var closed = ClosedPort();

        var e = await Assert.ThrowsAsync<KeystoneLoginException>(() =>
            new KeystoneLogin(Http, $"http://127.0.0.1:{closed}/v3").PasswordAsync(Nova, LoginScope.Unscoped, true, default));

        Assert.True(e.Unreachable);
        Assert.Equal(0, e.Status);
        Assert.Contains("refused", e.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_identity_slower_than_the_timeout_is_unreachable()
    {
        Cloud.LoginAnswer = async http =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), http.RequestAborted);
            return false;
        };

        var e = await Assert.ThrowsAsync<KeystoneLoginException>(() =>
            new KeystoneLogin(Http, Cloud.Url, TimeSpan.FromMilliseconds(200)).PasswordAsync(Nova, LoginScope.Unscoped, true, default));

        Assert.True(e.Unreachable);
    }

    [Fact]
    public void V3_root_accepts_auth_url_with_or_without_the_version()
    {
        Assert.Equal("http://h:5000/v3", KeystoneLogin.V3Root("http://h:5000"));
        Assert.Equal("http://h:5000/v3", KeystoneLogin.V3Root("http://h:5000/v3/"));
        Assert.Equal("http://h/identity/v3", KeystoneLogin.V3Root("http://h/identity/"));
    }
}
