using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Core.Hosting;
using Stratus.Core.Http;
using Stratus.Core.Policy;

namespace Stratus.Core.Tests.Policy;

/// <summary>
/// Core's enforcement over real HTTP: a route's rule, a handler's rule with a target, the default
/// target, the operator's policy file and the service's own refusal message.
/// </summary>
public class PolicyEnforcerTests
{
    const string Defaults = """
        "admin": "role:admin"
        "owner": "project_id:%(project_id)s"
        "test:list": "rule:admin"
        "test:show": "rule:admin or rule:owner"
        """;

    /// <summary>A service whose callers say who they are in X-Roles and X-Project (the test's stand-in for a token).</summary>
    static async Task<(WebApplication App, HttpClient Client)> StartAsync(string? policyFile = null, bool callerIsDefaultTarget = true)
    {
        var builder = ServiceHost.CreateBuilder("127.0.0.1", 0, null);
        builder.Services.AddSingleton<ErrorBodyWriter>(ErrorBodies.Keystone);
        builder.Services.AddPolicy(new PolicyOptions
        {
            DefaultRules = Defaults,
            PolicyFile = policyFile,
            DeniedMessage = rule => $"Test policy forbids {rule}.",
            Credentials = http => http.Request.Headers["X-Roles"].FirstOrDefault() is { } roles
                ? new PolicyCredentials
                {
                    Roles = roles.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal),
                    Fields = new Dictionary<string, string?> { ["project_id"] = http.Request.Headers["X-Project"].FirstOrDefault(), ["user_id"] = "u" },
                }
                : throw OpenStackError.Unauthorized(),
            CallerIsDefaultTarget = callerIsDefaultTarget,
        });
        var app = builder.Build();
        app.UseMiddleware<ErrorMiddleware>();
        app.MapGet("/things", () => "listed").RequirePolicy("test:list");
        app.MapGet("/things/{owner}", (string owner, HttpContext http) =>
        {
            http.Enforce("test:show", new Dictionary<string, string?> { ["project_id"] = owner });
            return "shown";
        });
        app.MapGet("/mine", (HttpContext http) => http.IsAllowed("owner") ? "mine" : "not mine");
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new HttpClient { BaseAddress = new Uri(url) });
    }

    static HttpRequestMessage Get(string path, string? roles, string? project = "p1")
    {
        var m = new HttpRequestMessage(HttpMethod.Get, path);
        if (roles is not null) m.Headers.Add("X-Roles", roles);
        if (project is not null) m.Headers.Add("X-Project", project);
        return m;
    }

    [Fact]
    public async Task Route_rule_lets_its_callers_through_and_refuses_others_in_the_services_words()
    {
        var (app, client) = await StartAsync();
        await using var _ = app;
        var admin = await client.SendAsync(Get("things", "admin"));
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Equal("listed", await admin.Content.ReadAsStringAsync());
        var member = await client.SendAsync(Get("things", "member"));
        Assert.Equal(HttpStatusCode.Forbidden, member.StatusCode);
        Assert.Equal("Test policy forbids test:list.", (string?)JsonNode.Parse(await member.Content.ReadAsStringAsync())!["error"]!["message"]);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Get("things", roles: null))).StatusCode);
    }

    [Fact]
    public async Task Handler_rule_is_checked_against_its_target()
    {
        var (app, client) = await StartAsync();
        await using var _ = app;
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Get("things/p1", "member"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(Get("things/p2", "member"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Get("things/p2", "admin"))).StatusCode);
    }

    [Theory]
    [InlineData(true, "mine")]
    [InlineData(false, "not mine")]
    public async Task Without_a_target_the_caller_is_the_target_unless_the_service_says_otherwise(bool callerIsDefaultTarget, string expected)
    {
        var (app, client) = await StartAsync(callerIsDefaultTarget: callerIsDefaultTarget);
        await using var _ = app;
        Assert.Equal(expected, await (await client.SendAsync(Get("mine", "member"))).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Policy_file_overrides_a_default_rule_and_keeps_the_others()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "\"test:list\": \"role:member\"\n");
        try
        {
            var (app, client) = await StartAsync(file);
            await using var _ = app;
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Get("things", "member"))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(Get("things", "admin"))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(Get("things/p2", "member"))).StatusCode);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
