using System.Net;
using Stratus.Core.Modules;

namespace Stratus.Identity.Tests.Catalog;

/// <summary>
/// Registering a service over the identity's API (how a node joins the shared identity): the service user's
/// password is set again only when it no longer logs in, since each change revokes the running service's tokens.
/// </summary>
public class IdentityApiRegistryTests(IdentityServer server) : IClassFixture<IdentityServer>
{
    [Fact]
    public async Task Registering_again_keeps_the_service_user_s_tokens_unless_its_password_changed()
    {
        var user = Http.Unique("svc");
        var registry = new IdentityApiRegistry(server.BaseUrl + "/v3", IdentityServer.AdminPassword);
        ServiceRegistration Entry(string type, string password) =>
            new(type, type, null, IdentityServer.Region, $"http://127.0.0.1:1/{type}", user, password);
        await registry.RegisterAsync(Entry(Http.Unique("a"), "first"));
        var token = await server.IssueTokenAsync(user, "first", project: "service");

        // As block storage registers volumev2, volumev3 and block-storage, each with its user.
        await registry.RegisterAsync(Entry(Http.Unique("b"), "first"));
        await new IdentityApiRegistry(server.BaseUrl + "/v3", IdentityServer.AdminPassword).RegisterAsync(Entry(Http.Unique("c"), "first"));
        Assert.Equal(HttpStatusCode.OK, await ValidateAsync(token));

        await new IdentityApiRegistry(server.BaseUrl + "/v3", IdentityServer.AdminPassword).RegisterAsync(Entry(Http.Unique("d"), "second"));
        Assert.Equal(HttpStatusCode.NotFound, await ValidateAsync(token));
        await server.IssueTokenAsync(user, "second", project: "service");
    }

    async Task<HttpStatusCode> ValidateAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens");
        request.Headers.Add("X-Subject-Token", token);
        using var response = await server.Admin.SendAsync(request);
        return response.StatusCode;
    }
}
