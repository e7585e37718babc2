using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Stratus.Identity.Tests.Api;

/// <summary>Malformed requests to the trust, EC2/S3 and OAuth1 APIs get Keystone's 4xx JSON errors, never a 500.</summary>
public class DelegationInputTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    [Theory]
    [InlineData("POST", "v3/OS-TRUST/trusts", """{"trust": []}""")]
    [InlineData("POST", "v3/OS-TRUST/trusts", """[]""")]
    [InlineData("POST", "v3/OS-TRUST/trusts", """{"trust": {"trustor_user_id": 5, "trustee_user_id": null, "impersonation": true}}""")]
    [InlineData("POST", "v3/OS-TRUST/trusts", """{"trust": {"trustor_user_id": "x", "trustee_user_id": "y", "impersonation": true, "roles": [{"id": null}]}}""")]
    [InlineData("POST", "v3/OS-TRUST/trusts", """{"trust": {"trustor_user_id": "x", "trustee_user_id": "y", "impersonation": true, "remaining_uses": 1e99}}""")]
    [InlineData("POST", "v3/OS-TRUST/trusts", """{"trust": {"trustor_user_id": "x", "trustee_user_id": "y", "impersonation": true, "expires_at": 12}}""")]
    [InlineData("GET", "v3/OS-TRUST/trusts/x/roles/y", null)]
    [InlineData("POST", "v3/ec2tokens", """{"credentials": "x"}""")]
    [InlineData("POST", "v3/ec2tokens", """{"credentials": {"access": 5}}""")]
    [InlineData("POST", "v3/ec2tokens", """{"credentials": {"access": "a", "signature": "s", "params": "p", "headers": 7}}""")]
    [InlineData("POST", "v3/ec2tokens", """not json""")]
    [InlineData("POST", "v3/s3tokens", """{"credentials": {"access": "a", "token": 5, "signature": []}}""")]
    [InlineData("PUT", "v3/OS-OAUTH1/authorize/abc", """{"roles": "member"}""")]
    [InlineData("PUT", "v3/OS-OAUTH1/authorize/abc", """{"roles": [5]}""")]
    [InlineData("POST", "v3/OS-OAUTH1/request_token", "")]
    [InlineData("POST", "v3/OS-OAUTH1/access_token", "")]
    [InlineData("GET", "v3/users/x/OS-OAUTH1/access_tokens/y", null)]
    [InlineData("DELETE", "v3/users/x/OS-OAUTH1/access_tokens/y", null)]
    public async Task Bad_requests_get_a_4xx_json_error(string method, string path, string? body)
    {
        using var req = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null) req.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var resp = await server.Admin.SendAsync(req);
        Assert.InRange((int)resp.StatusCode, 400, 499);
        var error = (await resp.Content.ReadFromJsonAsync<JsonObject>())!["error"]!;
        Assert.Equal((int)resp.StatusCode, error["code"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("""{"id": null}""")]
    [InlineData("""[]""")]
    [InlineData("""{"id": "x", "extra": {"deep": [1, 2]}}""")]
    public async Task A_malformed_trust_scope_is_a_4xx(string scope)
    {
        var token = await server.IssueTokenAsync("admin", IdentityServer.AdminPassword);
        var resp = await server.Anonymous.PostAsJsonAsync("v3/auth/tokens", JsonNode.Parse(
            "{\"auth\": {\"identity\": {\"methods\": [\"token\"], \"token\": {\"id\": \"" + token + "\"}}, \"scope\": {\"OS-TRUST:trust\": " + scope + "}}}"));
        Assert.InRange((int)resp.StatusCode, 400, 499);
        Assert.NotEqual(HttpStatusCode.Created, resp.StatusCode);
    }
}
