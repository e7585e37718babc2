using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Compute.Tests.Api;

/// <summary>Nova's Zed rules by default: hypervisors for admins, server changes for members, refusals in Nova's words.</summary>
public class PolicyDefaultsTests(ComputeServer server) : IClassFixture<ComputeServer>
{
    [Fact]
    public async Task Hypervisor_list_is_for_admins()
    {
        var (member, _, _) = await server.NewComputeUserAsync();
        var forbidden = await member.GetAsync("os-hypervisors");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("Policy doesn't allow os_compute_api:os-hypervisors:list to be performed.", (string?)(await forbidden.JsonAsync())["forbidden"]!["message"]);
        var list = await server.ComputeAdmin.GetAsync("os-hypervisors");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal("compute-test", (string?)(await list.JsonAsync())["hypervisors"]![0]!["hypervisor_hostname"]);
    }

    [Fact]
    public async Task Readers_may_not_create_servers()
    {
        var (reader, _, _) = await server.NewComputeUserAsync(role: "reader");
        var forbidden = await reader.PostAsJsonAsync("servers", new JsonObject { ["server"] = new JsonObject { ["name"] = "s" } });
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("Policy doesn't allow os_compute_api:servers:create to be performed.", (string?)(await forbidden.JsonAsync())["forbidden"]!["message"]);
    }
}

/// <summary>A region whose nova policy.yaml opens the hypervisor list (not its detail) to a project's members.</summary>
public sealed class MembersListHypervisorsServer : ComputeServer
{
    protected override string? PolicyYaml => "\"os_compute_api:os-hypervisors:list\": \"rule:project_member_or_admin\"\n";
}

public class PolicyFileTests(MembersListHypervisorsServer server) : IClassFixture<MembersListHypervisorsServer>
{
    [Fact]
    public async Task Policy_file_opens_one_rule_to_members_and_leaves_the_others_for_admins()
    {
        var (member, _, _) = await server.NewComputeUserAsync();
        var list = await member.GetAsync("os-hypervisors");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal("compute-test", (string?)(await list.JsonAsync())["hypervisors"]![0]!["hypervisor_hostname"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync("os-hypervisors/detail")).StatusCode);
        var (reader, _, _) = await server.NewComputeUserAsync(role: "reader");
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.GetAsync("os-hypervisors")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.ComputeAdmin.GetAsync("os-hypervisors")).StatusCode);
    }
}
