using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Image.Tests;

/// <summary>Glance's Zed metadef rules by default: anyone reads, admins change (metadef_admin), refusals in Glance's words.</summary>
public class PolicyDefaultsTests(ImageServer server) : IClassFixture<ImageServer>
{
    [Fact]
    public async Task Creating_a_metadef_namespace_is_for_admins()
    {
        var (member, _) = await server.NewProjectUserAsync();
        var name = "ns-" + Guid.NewGuid().ToString("N")[..8];
        var forbidden = await member.PostAsJsonAsync("v2/metadefs/namespaces", new JsonObject { ["namespace"] = name });
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("You are not authorized to complete add_metadef_namespace action.",
            (string?)JsonNode.Parse(await forbidden.Content.ReadAsStringAsync())!["message"]);
        Assert.Equal(HttpStatusCode.Created, (await server.Admin.PostAsJsonAsync("v2/metadefs/namespaces", new JsonObject { ["namespace"] = name })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync("v2/metadefs/namespaces")).StatusCode);
    }
}

/// <summary>An image service whose policy.yaml (beside glance-api.conf) lets a project's members create metadef namespaces.</summary>
public sealed class MembersAddNamespacesServer : ImageServer
{
    protected override ImageOptions Configure(ImageOptions options)
    {
        var file = Path.Combine(Path.GetDirectoryName(options.ConfigPath)!, "policy.yaml");
        File.WriteAllText(file, "\"add_metadef_namespace\": \"role:member\"\n");
        return options with { PolicyFile = file };
    }
}

public class PolicyFileTests(MembersAddNamespacesServer server) : IClassFixture<MembersAddNamespacesServer>
{
    [Fact]
    public async Task Policy_file_opens_one_rule_to_members_and_leaves_the_others_for_admins()
    {
        var (member, _) = await server.NewProjectUserAsync();
        var name = "ns-" + Guid.NewGuid().ToString("N")[..8];
        var created = await member.PostAsJsonAsync("v2/metadefs/namespaces", new JsonObject { ["namespace"] = name });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(name, (string?)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["namespace"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.DeleteAsync($"v2/metadefs/namespaces/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await server.Admin.DeleteAsync($"v2/metadefs/namespaces/{name}")).StatusCode);
    }
}
