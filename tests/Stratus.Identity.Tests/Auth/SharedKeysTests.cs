using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Tests.Auth;

/// <summary>Several identity nodes sharing the database and the Fernet key repository accept each other's tokens.</summary>
public class SharedKeysTests
{
    [Fact]
    public async Task A_second_node_accepts_the_first_nodes_tokens_across_a_rotation()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var first = new IdentityServer { Time = clock };
        await first.InitializeAsync();
        try
        {
            await using var second = IdentityService.Build(first.Options with { BindPort = 0 }, b => b.Services.AddSingleton<TimeProvider>(clock));
            await second.StartAsync();
            var url = second.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var client = new HttpClient { BaseAddress = new Uri(url) };

            async Task<HttpStatusCode> ValidateOnSecond(string token)
            {
                var req = new HttpRequestMessage(HttpMethod.Get, "/v3/auth/tokens");
                req.Headers.Add("X-Auth-Token", token);
                req.Headers.Add("X-Subject-Token", token);
                return (await client.SendAsync(req)).StatusCode;
            }

            var before = await first.IssueTokenAsync("admin", IdentityServer.AdminPassword, project: "admin");
            Assert.Equal(HttpStatusCode.OK, await ValidateOnSecond(before));

            // keystone-manage fernet_rotate on the shared repository: both nodes pick the new keys up live.
            new FernetKeyRepository(first.Options.KeyRepository).Rotate();
            clock.Advance(FernetKeyRepository.RecheckInterval); // nodes re-check the repository at most once a second
            var after = await first.IssueTokenAsync("admin", IdentityServer.AdminPassword, project: "admin");
            Assert.Equal(HttpStatusCode.OK, await ValidateOnSecond(after));
            Assert.Equal(HttpStatusCode.OK, await ValidateOnSecond(before));

            await second.StopAsync();
        }
        finally
        {
            await first.DisposeAsync();
        }
    }
}
