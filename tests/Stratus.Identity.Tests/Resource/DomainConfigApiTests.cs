using System.Net;
using Stratus.Identity.Tests.Catalog;

namespace Stratus.Identity.Tests.Resource;

public class DomainConfigApiTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    async Task<string> DomainAsync() =>
        (await server.Admin.Post("v3/domains", $$$"""{"domain": {"name": "{{{Http.Unique("cfg")}}}"}}""")).Body!["domain"].Str("id");

    [Fact]
    public async Task Config_is_created_read_by_group_and_option_and_replaced()
    {
        var d = await DomainAsync();
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Get($"v3/domains/{d}/config"), $"Could not find any options in domain configuration for domain {d}.");
        var created = await server.Admin.Put($"v3/domains/{d}/config",
            """{"config": {"identity": {"driver": "ldap"}, "ldap": {"url": "ldap://a", "password": "secret", "use_pool": false}}}""");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        // The sensitive password is stored but never shown.
        Assert.Equal("""{"identity":{"driver":"ldap"},"ldap":{"url":"ldap://a","use_pool":false}}""", created.Body!["config"]!.ToJsonString());

        Assert.Equal("""{"ldap":{"url":"ldap://a","use_pool":false}}""", (await server.Admin.Get($"v3/domains/{d}/config/ldap")).Body!["config"]!.ToJsonString());
        Assert.Equal("""{"url":"ldap://a"}""", (await server.Admin.Get($"v3/domains/{d}/config/ldap/url")).Body!["config"]!.ToJsonString());
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Get($"v3/domains/{d}/config/ldap/password"));
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Get($"v3/domains/{d}/config/ldap/suffix"), "option suffix in group ldap");

        var replaced = await server.Admin.Put($"v3/domains/{d}/config", """{"config": {"ldap": {"suffix": "dc=x"}}}""");
        Assert.Equal(HttpStatusCode.OK, replaced.Status);
        Assert.Equal("""{"ldap":{"suffix":"dc=x"}}""", replaced.Body!["config"]!.ToJsonString());
    }

    [Fact]
    public async Task Patch_merges_and_a_group_or_option_in_the_url_must_match_the_body()
    {
        var d = await DomainAsync();
        await server.Admin.Put($"v3/domains/{d}/config", """{"config": {"ldap": {"url": "ldap://a", "suffix": "s"}}}""");
        var merged = await server.Admin.Patch($"v3/domains/{d}/config", """{"config": {"identity": {"driver": "ldap"}}}""");
        Assert.Equal("""{"identity":{"driver":"ldap"},"ldap":{"url":"ldap://a","suffix":"s"}}""", merged.Body!["config"]!.ToJsonString());
        var option = await server.Admin.Patch($"v3/domains/{d}/config/ldap/url", """{"config": {"url": "ldap://b"}}""");
        Assert.Equal("ldap://b", option.Body!["config"]!["ldap"].Str("url"));

        Http.AssertError(HttpStatusCode.Forbidden, await server.Admin.Patch($"v3/domains/{d}/config/ldap", """{"config": {"identity": {"driver": "sql"}}}"""),
            "request to update group ldap, but config provided contains group identity instead");
        Http.AssertError(HttpStatusCode.Forbidden, await server.Admin.Patch($"v3/domains/{d}/config/ldap/url", """{"config": {"suffix": "z"}}"""));
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Patch($"v3/domains/{d}/config/ldap/user", """{"config": {"user": "z"}}"""),
            "option user in group ldap");
    }

    [Fact]
    public async Task Partial_deletes_need_the_group_or_option_to_exist()
    {
        var d = await DomainAsync();
        await server.Admin.Put($"v3/domains/{d}/config", """{"config": {"identity": {"driver": "ldap"}, "ldap": {"url": "ldap://a", "suffix": "s"}}}""");
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Delete($"v3/domains/{d}/config/ldap/user"));
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Delete($"v3/domains/{d}/config/ldap/url")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Delete($"v3/domains/{d}/config/identity")).Status);
        Http.AssertError(HttpStatusCode.NotFound, await server.Admin.Delete($"v3/domains/{d}/config/identity"), "group identity");
        Assert.Equal("""{"ldap":{"suffix":"s"}}""", (await server.Admin.Get($"v3/domains/{d}/config")).Body!["config"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Delete($"v3/domains/{d}/config")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.Delete($"v3/domains/{d}/config")).Status);
    }

    [Theory]
    [InlineData("""{"config": {}}""", "No options specified")]
    [InlineData("""{"config": {"token": {"expiration": 5}}}""", "Group token is not supported")]
    [InlineData("""{"config": {"ldap": {"nope": 1}}}""", "Option nope in group ldap is not supported")]
    [InlineData("""{"config": {"ldap": "x"}}""", "should be a dictionary of options")]
    [InlineData("""{"config": {"ldap": {}}}""", "should be a dictionary of options")]
    public async Task Unsupported_configuration_is_forbidden(string json, string message) =>
        Http.AssertError(HttpStatusCode.Forbidden, await server.Admin.Put($"v3/domains/{await DomainAsync()}/config", json), message);

    [Fact]
    public async Task Defaults_cover_the_whitelist_but_not_sensitive_options()
    {
        var all = (await server.Admin.Get("v3/domains/config/default")).Body!["config"]!;
        Assert.Equal("sql", all["identity"].Str("driver"));
        Assert.Equal("ldap://localhost", all["ldap"].Str("url"));
        Assert.True(all["ldap"]!["use_pool"]!.GetValue<bool>());
        Assert.False(all["ldap"]!.AsObject().ContainsKey("password"));
        Assert.Equal("""{"identity":{"driver":"sql","list_limit":null}}""", (await server.Admin.Get("v3/domains/config/identity/default")).Body!["config"]!.ToJsonString());
        Assert.Equal("""{"query_scope":"one"}""", (await server.Admin.Get("v3/domains/config/ldap/query_scope/default")).Body!["config"]!.ToJsonString());
        Http.AssertError(HttpStatusCode.Forbidden, await server.Admin.Get("v3/domains/config/ldap/password/default"), "Reading the default for option password");
        Http.AssertError(HttpStatusCode.Forbidden, await server.Admin.Get("v3/domains/config/token/default"));
    }

    [Fact]
    public async Task Security_compliance_is_readable_only_for_the_default_domain()
    {
        var r = await server.Admin.Get("v3/domains/default/config/security_compliance");
        Assert.Equal("""{"security_compliance":{"password_regex":null,"password_regex_description":null}}""", r.Body!["config"]!.ToJsonString());
        Assert.Equal("""{"password_regex":null}""", (await server.Admin.Get("v3/domains/default/config/security_compliance/password_regex")).Body!["config"]!.ToJsonString());
        Http.AssertError(HttpStatusCode.Forbidden, await server.Admin.Get("v3/domains/default/config/security_compliance/lockout_duration"));
        Http.AssertError(HttpStatusCode.Forbidden, await server.Admin.Get($"v3/domains/{await DomainAsync()}/config/security_compliance"), "other than the default domain");
    }

    [Fact]
    public async Task A_member_may_not_touch_domain_configuration()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Get("v3/domains/default/config")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Put("v3/domains/default/config", """{"config": {"identity": {"driver": "ldap"}}}""")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.Get("v3/domains/config/default")).Status);
    }
}
