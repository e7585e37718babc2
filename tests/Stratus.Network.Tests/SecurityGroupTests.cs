using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Network.Tests;

/// <summary>Security groups and their rules through the real CLI, and Neutron's checks of bad rules.</summary>
public sealed class SecurityGroupTests(NetworkServer net) : IClassFixture<NetworkServer>
{
    static string Name(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task The_CLI_creates_groups_with_rules_and_a_project_sees_its_default_group()
    {
        var name = Name("web");
        var group = await net.OpenStackAsync("security", "group", "create", name, "--description", "web servers");
        var id = (string)group["id"]!;
        // Neutron's two egress rules come with every new group.
        Assert.Equal(2, group["rules"]?.AsArray().Count ?? group["security_group_rules"]!.AsArray().Count);
        var icmp = await net.OpenStackAsync("security", "group", "rule", "create", "--protocol", "icmp", id);
        Assert.Equal("icmp", (string?)icmp["protocol"]);
        var ssh = await net.OpenStackAsync("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "--remote-ip", "10.0.0.5/24", id);
        Assert.Equal(22, (int)ssh["port_range_min"]!);
        Assert.Equal("10.0.0.0/24", (string?)ssh["remote_ip_prefix"]);
        var rules = (await net.OpenStackAsync("security", "group", "rule", "list", id)).AsArray();
        Assert.Equal(4, rules.Count);
        var groups = (await net.OpenStackAsync("security", "group", "list")).AsArray();
        Assert.Contains(groups, g => (string?)g!["Name"] == "default");
        Assert.Contains(groups, g => (string?)g!["Name"] == name);
        // The same rule again is Neutron's 409 naming the rule that exists.
        var again = await net.Admin().PostAsJsonAsync("v2.0/security-group-rules", new JsonObject
        {
            ["security_group_rule"] = new JsonObject { ["security_group_id"] = id, ["direction"] = "ingress", ["protocol"] = "icmp" },
        });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains((string)icmp["id"]!, await again.Content.ReadAsStringAsync());
        (await ProcessRunner.RunAsync("openstack", ["security", "group", "delete", id], net.AdminEnv())).EnsureSuccess("security group delete");
    }

    [Fact]
    public async Task Bad_rules_get_Neutrons_errors_and_another_projects_group_is_not_found()
    {
        var admin = net.Admin();
        var group = (await (await admin.PostAsJsonAsync("v2.0/security-groups", new JsonObject { ["security_group"] = new JsonObject { ["name"] = Name("g") } }))
            .Content.ReadFromJsonAsync<JsonObject>())!["security_group"]!;
        var id = (string)group["id"]!;
        async Task<string?> RuleErrorAsync(JsonObject rule)
        {
            rule["security_group_id"] = id;
            rule["direction"] ??= "ingress";
            var r = await admin.PostAsJsonAsync("v2.0/security-group-rules", new JsonObject { ["security_group_rule"] = rule });
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            return (string?)(await r.Content.ReadFromJsonAsync<JsonObject>())!["NeutronError"]!["type"];
        }
        Assert.Equal("SecurityGroupInvalidPortRange", await RuleErrorAsync(new JsonObject { ["protocol"] = "tcp", ["port_range_min"] = 90, ["port_range_max"] = 80 }));
        Assert.Equal("SecurityGroupProtocolRequiredWithPorts", await RuleErrorAsync(new JsonObject { ["port_range_min"] = 80 }));
        Assert.Equal("SecurityGroupInvalidIcmpValue", await RuleErrorAsync(new JsonObject { ["protocol"] = "icmp", ["port_range_min"] = 300 }));
        Assert.Equal("SecurityGroupRuleParameterConflict", await RuleErrorAsync(new JsonObject { ["ethertype"] = "IPv6", ["remote_ip_prefix"] = "10.0.0.0/8" }));
        Assert.Equal("SecurityGroupRuleInvalidProtocol", await RuleErrorAsync(new JsonObject { ["protocol"] = "bogus" }));
        var (identity, _, _) = await net.Identity.NewProjectUserAsync();
        var other = net.Client(identity.DefaultRequestHeaders.GetValues("X-Auth-Token").Single());
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"v2.0/security-groups/{id}")).StatusCode);
        var theirs = (await other.GetFromJsonAsync<JsonObject>("v2.0/security-groups"))!["security_groups"]!.AsArray();
        Assert.Equal(["default"], theirs.Select(g => (string)g!["name"]!).ToArray());
    }
}
