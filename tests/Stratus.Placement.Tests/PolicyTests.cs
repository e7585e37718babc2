using System.Net;

namespace Stratus.Placement.Tests;

/// <summary>Placement's Zed rules by default: every API is for admins, and refusals name the rule.</summary>
public class PolicyDefaultsTests(PlacementServer server) : IClassFixture<PlacementServer>
{
    [Fact]
    public async Task Listing_resource_providers_is_for_admins()
    {
        var (member, _, _) = await server.Identity.NewProjectUserAsync();
        var forbidden = await server.Client(member.DefaultRequestHeaders.GetValues("X-Auth-Token").Single()).GetAsync("resource_providers");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("Policy does not allow placement:resource_providers:list to be performed.",
            (string?)(await forbidden.JsonAsync())["errors"]![0]!["detail"]);
        Assert.Equal(HttpStatusCode.OK, (await server.Admin().GetAsync("resource_providers")).StatusCode);
    }
}

/// <summary>A placement whose policy.yaml opens the resource provider list to a project's members.</summary>
public sealed class MembersListProvidersServer : PlacementServer
{
    protected override string? PolicyYaml => "\"placement:resource_providers:list\": \"role:member\"\n";
}

public class PolicyFileTests(MembersListProvidersServer server) : IClassFixture<MembersListProvidersServer>
{
    [Fact]
    public async Task Policy_file_opens_one_rule_to_members_and_leaves_the_others_for_admins()
    {
        var (identity, _, _) = await server.Identity.NewProjectUserAsync();
        var member = server.Client(identity.DefaultRequestHeaders.GetValues("X-Auth-Token").Single());
        var list = await member.GetAsync("resource_providers");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.NotNull((await list.JsonAsync())["resource_providers"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync("traits")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Admin().GetAsync("resource_providers")).StatusCode);
    }
}
