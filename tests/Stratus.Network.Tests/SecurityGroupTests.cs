using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using static Stratus.Testing.NeutronCalls;

namespace Stratus.Network.Tests;

/// <summary>Security groups and their rules through the real openstack CLI, and Neutron's errors over raw HTTP.</summary>
public sealed class SecurityGroupTests(NetworkServer net) : IClassFixture<NetworkServer>
{

    static Task<HttpResponseMessage> PostGroup(HttpClient c, JsonObject group) =>
        c.PostAsJsonAsync("v2.0/security-groups", new JsonObject { ["security_group"] = group });

    static Task<HttpResponseMessage> PostRule(HttpClient c, JsonObject rule) =>
        c.PostAsJsonAsync("v2.0/security-group-rules", new JsonObject { ["security_group_rule"] = rule });

    static async Task<string> NewGroupAsync(HttpClient c, string? name = null) =>
        (string)(await ExpectAsync(PostGroup(c, new JsonObject { ["name"] = name ?? Name("sg") }), HttpStatusCode.Created))["security_group"]!["id"]!;

    [Fact]
    public async Task The_openstack_CLI_creates_lists_shows_and_deletes_groups_and_their_rules()
    {
        var name = Name("web");
        var group = await net.OpenStackAsync("security group", "create", "--description", "web servers", name);
        var groupId = (string)group["id"]!;
        Assert.Equal("web servers", (string?)group["description"]);
        Assert.True((bool)group["stateful"]!);

        // The admin's project has its default group as soon as it lists its groups.
        var listed = (await net.OpenStackAsync("security group", "list")).AsArray();
        Assert.Contains(listed, g => (string?)g!["Name"] == name);
        // An admin lists every project's groups, as Neutron shows them; the admin's own project has one default.
        Assert.Single(listed, g => (string?)g!["Name"] == "default" && (string?)g["Project"] == (string?)group["project_id"]);

        var icmp = await net.OpenStackAsync("security group rule", "create", "--protocol", "icmp", name);
        Assert.Equal("icmp", (string?)icmp["protocol"]);
        Assert.Equal("ingress", (string?)icmp["direction"]);
        Assert.Equal("0.0.0.0/0", (string?)icmp["remote_ip_prefix"]);
        var ssh = await net.OpenStackAsync("security group rule", "create", "--protocol", "tcp", "--dst-port", "22", name);
        Assert.Equal("tcp", (string?)ssh["protocol"]);
        Assert.Equal(22, (int)ssh["port_range_min"]!);
        Assert.Equal(22, (int)ssh["port_range_max"]!);
        // The same rule again is Neutron's 409 SecurityGroupRuleExists.
        var again = await ProcessRunner.RunAsync("openstack", ["security group rule", "create", "--protocol", "tcp", "--dst-port", "22", name], net.AdminEnv());
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("Security group rule already exists", again.Stdout + again.Stderr);

        // The CLI's default protocol is any, and a port range needs one: Neutron's 400.
        var anyProtocol = await ProcessRunner.RunAsync("openstack", ["security group rule", "create", "--dst-port", "80", name], net.AdminEnv());
        Assert.NotEqual(0, anyProtocol.ExitCode);
        Assert.Contains("Must also specify protocol if port range is given.", anyProtocol.Stderr);

        var rules = (await net.OpenStackAsync("security group rule", "list", name)).AsArray();
        Assert.Equal(4, rules.Count);
        Assert.Equal(2, rules.Count(r => (string?)r!["Direction"] == "egress"));
        Assert.Contains(rules, r => (string?)r!["ID"] == (string?)ssh["id"] && (string?)r!["Port Range"] == "22:22");

        var shown = await net.OpenStackAsync("security group", "show", name);
        Assert.Equal(groupId, (string?)shown["id"]);
        var raw = await ExpectAsync(net.Admin().GetAsync($"v2.0/security-groups/{groupId}"), HttpStatusCode.OK);
        var embedded = raw["security_group"]!["security_group_rules"]!.AsArray();
        Assert.Equal(4, embedded.Count);
        Assert.Contains(embedded, r => (string?)r!["ethertype"] == "IPv6" && (string?)r!["direction"] == "egress" && r["remote_ip_prefix"] is null);

        (await ProcessRunner.RunAsync("openstack", ["security group rule", "delete", (string)icmp["id"]!], net.AdminEnv())).EnsureSuccess("rule delete");
        await ExpectAsync(net.Admin().GetAsync($"v2.0/security-group-rules/{(string)icmp["id"]!}"), HttpStatusCode.NotFound, "SecurityGroupRuleNotFound");
        (await ProcessRunner.RunAsync("openstack", ["security group", "delete", name], net.AdminEnv())).EnsureSuccess("group delete");
        await ExpectAsync(net.Admin().GetAsync($"v2.0/security-groups/{groupId}"), HttpStatusCode.NotFound, "SecurityGroupNotFound");
        // Its rules went with it.
        await ExpectAsync(net.Admin().GetAsync($"v2.0/security-group-rules/{(string)ssh["id"]!}"), HttpStatusCode.NotFound, "SecurityGroupRuleNotFound");
    }

    [Fact]
    public async Task Rules_are_made_canonical_as_Neutron_makes_them()
    {
        var (alice, project) = await net.MemberAsync();
        var group = await NewGroupAsync(alice);
        async Task<JsonObject> Rule(JsonObject r)
        {
            r["security_group_id"] = group;
            return (await ExpectAsync(PostRule(alice, r), HttpStatusCode.Created))["security_group_rule"]!.AsObject();
        }
        var host = await Rule(new JsonObject { ["direction"] = "ingress", ["protocol"] = "TCP", ["port_range_min"] = "80", ["port_range_max"] = 81, ["remote_ip_prefix"] = "10.1.2.3" });
        Assert.Equal("tcp", (string?)host["protocol"]);
        Assert.Equal("10.1.2.3/32", (string?)host["remote_ip_prefix"]);
        Assert.Equal(80, (int)host["port_range_min"]!);
        Assert.Equal(project, (string?)host["project_id"]);
        Assert.Equal("IPv4", (string?)host["ethertype"]);
        var v6 = await Rule(new JsonObject { ["direction"] = "ingress", ["ethertype"] = "ipv6", ["protocol"] = "icmp", ["remote_ip_prefix"] = "2001:DB8:0::/48" });
        Assert.Equal("IPv6", (string?)v6["ethertype"]);
        Assert.Equal("ipv6-icmp", (string?)v6["protocol"]);
        Assert.Equal("2001:db8::/48", (string?)v6["remote_ip_prefix"]);
        // The whole port range is no range.
        var all = await Rule(new JsonObject { ["direction"] = "ingress", ["protocol"] = "udp", ["port_range_min"] = 1, ["port_range_max"] = 65535 });
        Assert.Null(all["port_range_min"]);
        Assert.Null(all["port_range_max"]);
        var number = await Rule(new JsonObject { ["direction"] = "egress", ["protocol"] = 112 });
        Assert.Equal("112", (string?)number["protocol"]);
        // 6 is tcp, so it repeats the first rule; 0.0.0.0/0 is the same as no prefix.
        var dup = await ExpectAsync(PostRule(alice, new JsonObject
        {
            ["security_group_id"] = group, ["direction"] = "ingress", ["protocol"] = "6", ["port_range_min"] = 80, ["port_range_max"] = 81, ["remote_ip_prefix"] = "10.1.2.3/32",
        }), HttpStatusCode.Conflict, "SecurityGroupRuleExists");
        Assert.Equal($"Security group rule already exists. Rule id is {(string)host["id"]!}.", (string?)dup["NeutronError"]!["message"]);
        await ExpectAsync(PostRule(alice, new JsonObject { ["security_group_id"] = group, ["direction"] = "egress", ["ethertype"] = "IPv4", ["remote_ip_prefix"] = "0.0.0.0/0" }),
            HttpStatusCode.Conflict, "SecurityGroupRuleExists");
        // A bulk create of two equal rules is refused whole.
        var before = (await ExpectAsync(alice.GetAsync($"v2.0/security-group-rules?security_group_id={group}"), HttpStatusCode.OK))["security_group_rules"]!.AsArray().Count;
        JsonObject Gre() => new() { ["security_group_id"] = group, ["direction"] = "ingress", ["protocol"] = "gre" };
        await ExpectAsync(alice.PostAsJsonAsync("v2.0/security-group-rules", new JsonObject { ["security_group_rules"] = new JsonArray(Gre(), Gre()) }),
            HttpStatusCode.Conflict, "DuplicateSecurityGroupRuleInPost");
        var after = (await ExpectAsync(alice.GetAsync($"v2.0/security-group-rules?security_group_id={group}"), HttpStatusCode.OK))["security_group_rules"]!.AsArray().Count;
        Assert.Equal(before, after);
        // A rule's change is its group's: the revision moved on.
        var shown = await ExpectAsync(alice.GetAsync($"v2.0/security-groups/{group}"), HttpStatusCode.OK);
        Assert.True((int)shown["security_group"]!["revision_number"]! > 1);
    }

    [Fact]
    public async Task Bad_rules_get_Neutrons_errors()
    {
        var (alice, _) = await net.MemberAsync();
        var group = await NewGroupAsync(alice);
        async Task<string> Refused(JsonObject rule, HttpStatusCode status, string type)
        {
            rule["security_group_id"] ??= group;
            rule["direction"] ??= "ingress";
            return (string)(await ExpectAsync(PostRule(alice, rule), status, type))["NeutronError"]!["message"]!;
        }
        Assert.StartsWith("Security group rule protocol bogus not supported.",
            await Refused(new JsonObject { ["protocol"] = "bogus" }, HttpStatusCode.BadRequest, "SecurityGroupRuleInvalidProtocol"));
        await Refused(new JsonObject { ["protocol"] = 256 }, HttpStatusCode.BadRequest, "SecurityGroupRuleInvalidProtocol");
        Assert.Equal("For TCP/UDP protocols, port_range_min must be <= port_range_max",
            await Refused(new JsonObject { ["protocol"] = "tcp", ["port_range_min"] = 90, ["port_range_max"] = 80 }, HttpStatusCode.BadRequest, "SecurityGroupInvalidPortRange"));
        await Refused(new JsonObject { ["protocol"] = "tcp", ["port_range_min"] = 22 }, HttpStatusCode.BadRequest, "SecurityGroupInvalidPortRange");
        Assert.Equal("Invalid value for port 0",
            await Refused(new JsonObject { ["protocol"] = "udp", ["port_range_min"] = 0, ["port_range_max"] = 10 }, HttpStatusCode.BadRequest, "SecurityGroupInvalidPortValue"));
        await Refused(new JsonObject { ["protocol"] = "tcp", ["port_range_min"] = 70000, ["port_range_max"] = 70000 }, HttpStatusCode.BadRequest, "SecurityGroupInvalidPortValue");
        Assert.Equal("Invalid value for ICMP type (port_range_min) 256. It must be 0 to 255.",
            await Refused(new JsonObject { ["protocol"] = "icmp", ["port_range_min"] = 256 }, HttpStatusCode.BadRequest, "SecurityGroupInvalidIcmpValue"));
        await Refused(new JsonObject { ["protocol"] = "icmp", ["port_range_max"] = 0 }, HttpStatusCode.BadRequest, "SecurityGroupMissingIcmpType");
        await Refused(new JsonObject { ["port_range_min"] = 22, ["port_range_max"] = 22 }, HttpStatusCode.BadRequest, "SecurityGroupProtocolRequiredWithPorts");
        await Refused(new JsonObject { ["protocol"] = "gre", ["port_range_min"] = 22, ["port_range_max"] = 22 }, HttpStatusCode.BadRequest, "SecurityGroupInvalidProtocolForPort");
        Assert.Equal("Conflicting value ethertype IPv6 for CIDR 10.0.0.0/8",
            await Refused(new JsonObject { ["ethertype"] = "IPv6", ["remote_ip_prefix"] = "10.0.0.0/8" }, HttpStatusCode.BadRequest, "SecurityGroupRuleParameterConflict"));
        await Refused(new JsonObject { ["protocol"] = "ipv6-icmp" }, HttpStatusCode.BadRequest, "SecurityGroupEthertypeConflictWithProtocol");
        await Refused(new JsonObject { ["remote_ip_prefix"] = "10.0.0.300/8" }, HttpStatusCode.BadRequest, "InvalidCIDR");
        await Refused(new JsonObject { ["ethertype"] = "IPv5" }, HttpStatusCode.BadRequest, "SecurityGroupRuleInvalidEtherType");
        await Refused(new JsonObject { ["direction"] = "sideways" }, HttpStatusCode.BadRequest, "HTTPBadRequest");
        await Refused(new JsonObject { ["remote_ip_prefix"] = "10.0.0.0/8", ["remote_group_id"] = group }, HttpStatusCode.BadRequest, "SecurityGroupMultipleRemoteEntites");
        await Refused(new JsonObject { ["remote_group_id"] = Guid.NewGuid().ToString() }, HttpStatusCode.NotFound, "SecurityGroupNotFound");
        await Refused(new JsonObject { ["security_group_id"] = Guid.NewGuid().ToString() }, HttpStatusCode.NotFound, "SecurityGroupNotFound");
        // Without the security-groups-remote-address-group extension the attribute is unknown.
        await Refused(new JsonObject { ["remote_address_group_id"] = null }, HttpStatusCode.BadRequest, "HTTPBadRequest");
        await ExpectAsync(PostRule(alice, new JsonObject { ["security_group_id"] = group }), HttpStatusCode.BadRequest, "HTTPBadRequest");
        // Only the two egress rules a new group gets are left.
        var rules = await ExpectAsync(alice.GetAsync($"v2.0/security-group-rules?security_group_id={group}"), HttpStatusCode.OK);
        Assert.Equal(2, rules["security_group_rules"]!.AsArray().Count);
    }

    [Fact]
    public async Task The_default_group_is_kept_and_a_group_in_use_is_not_deleted()
    {
        var (alice, project) = await net.MemberAsync();
        var groups = await ExpectAsync(alice.GetAsync("v2.0/security-groups"), HttpStatusCode.OK);
        var defaultGroup = groups["security_groups"]!.AsArray().Single()!.AsObject();
        Assert.Equal("default", (string?)defaultGroup["name"]);
        Assert.Equal(project, (string?)defaultGroup["project_id"]);
        var defaultRules = defaultGroup["security_group_rules"]!.AsArray();
        Assert.Equal(4, defaultRules.Count);
        Assert.Equal(2, defaultRules.Count(r => (string?)r!["remote_group_id"] == (string?)defaultGroup["id"]));
        var defaultId = (string)defaultGroup["id"]!;

        await ExpectAsync(PostGroup(alice, new JsonObject { ["name"] = "Default" }), HttpStatusCode.Conflict, "SecurityGroupDefaultAlreadyExists");
        await ExpectAsync(alice.PutAsJsonAsync($"v2.0/security-groups/{defaultId}", new JsonObject { ["security_group"] = new JsonObject { ["name"] = "mine" } }),
            HttpStatusCode.Conflict, "SecurityGroupCannotUpdateDefault");
        var described = await ExpectAsync(alice.PutAsJsonAsync($"v2.0/security-groups/{defaultId}", new JsonObject { ["security_group"] = new JsonObject { ["description"] = "ours" } }),
            HttpStatusCode.OK);
        Assert.Equal("ours", (string?)described["security_group"]!["description"]);
        await ExpectAsync(alice.DeleteAsync($"v2.0/security-groups/{defaultId}"), HttpStatusCode.Conflict, "SecurityGroupCannotRemoveDefault");

        var group = await NewGroupAsync(alice);
        var renamed = await ExpectAsync(alice.PutAsJsonAsync($"v2.0/security-groups/{group}", new JsonObject { ["security_group"] = new JsonObject { ["name"] = "db" } }), HttpStatusCode.OK);
        Assert.Equal("db", (string?)renamed["security_group"]!["name"]);
        await ExpectAsync(alice.PutAsJsonAsync($"v2.0/security-groups/{group}", new JsonObject { ["security_group"] = new JsonObject { ["name"] = "default" } }),
            HttpStatusCode.Conflict, "SecurityGroupDefaultAlreadyExists");
        var n = await ExpectAsync(alice.PostAsJsonAsync("v2.0/networks", new JsonObject { ["network"] = new JsonObject { ["name"] = Name("sgnet") } }), HttpStatusCode.Created);
        var port = await ExpectAsync(alice.PostAsJsonAsync("v2.0/ports", new JsonObject
        {
            ["port"] = new JsonObject { ["network_id"] = (string)n["network"]!["id"]!, ["security_groups"] = new JsonArray(group) },
        }), HttpStatusCode.Created);
        await ExpectAsync(alice.DeleteAsync($"v2.0/security-groups/{group}"), HttpStatusCode.Conflict, "SecurityGroupInUse");
        // A group in use keeps its statefulness.
        await ExpectAsync(alice.PutAsJsonAsync($"v2.0/security-groups/{group}", new JsonObject { ["security_group"] = new JsonObject { ["stateful"] = false } }),
            HttpStatusCode.Conflict, "SecurityGroupInUse");
        await ExpectAsync(alice.DeleteAsync($"v2.0/ports/{(string)port["port"]!["id"]!}"), HttpStatusCode.NoContent);
        await ExpectAsync(alice.DeleteAsync($"v2.0/security-groups/{group}"), HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_projects_first_uses_in_parallel_make_exactly_one_default_group()
    {
        var (alice, project) = await net.MemberAsync();
        var firstUses = Enumerable.Range(0, 12).Select(i => (i % 3) switch
        {
            0 => alice.GetAsync("v2.0/security-groups"),
            1 => alice.GetAsync("v2.0/security-group-rules"),
            _ => PostGroup(alice, new JsonObject { ["name"] = Name("race") }),
        });
        foreach (var r in await Task.WhenAll(firstUses))
            Assert.True(r.IsSuccessStatusCode, $"{(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        var groups = (await ExpectAsync(alice.GetAsync("v2.0/security-groups"), HttpStatusCode.OK))["security_groups"]!.AsArray();
        Assert.Single(groups, g => (string?)g!["name"] == "default");
        Assert.Equal(5, groups.Count);
        Assert.All(groups, g => Assert.Equal(project, (string?)g!["project_id"]));
        // 4 rules of the default group and 2 of each of the 4 others.
        var rules = (await ExpectAsync(alice.GetAsync("v2.0/security-group-rules"), HttpStatusCode.OK))["security_group_rules"]!.AsArray();
        Assert.Equal(12, rules.Count);
    }

    [Fact]
    public async Task Another_projects_groups_and_rules_are_not_found()
    {
        var (alice, _) = await net.MemberAsync();
        var (bob, _) = await net.MemberAsync();
        var group = await NewGroupAsync(alice);
        var rule = (string)(await ExpectAsync(PostRule(alice, new JsonObject { ["security_group_id"] = group, ["direction"] = "ingress", ["protocol"] = "tcp", ["port_range_min"] = 443, ["port_range_max"] = 443 }),
            HttpStatusCode.Created))["security_group_rule"]!["id"]!;
        await ExpectAsync(bob.GetAsync($"v2.0/security-groups/{group}"), HttpStatusCode.NotFound, "SecurityGroupNotFound");
        await ExpectAsync(bob.PutAsJsonAsync($"v2.0/security-groups/{group}", new JsonObject { ["security_group"] = new JsonObject { ["name"] = "x" } }), HttpStatusCode.NotFound);
        await ExpectAsync(bob.DeleteAsync($"v2.0/security-groups/{group}"), HttpStatusCode.NotFound);
        await ExpectAsync(bob.GetAsync($"v2.0/security-group-rules/{rule}"), HttpStatusCode.NotFound);
        await ExpectAsync(bob.DeleteAsync($"v2.0/security-group-rules/{rule}"), HttpStatusCode.NotFound);
        await ExpectAsync(PostRule(bob, new JsonObject { ["security_group_id"] = group, ["direction"] = "ingress" }), HttpStatusCode.NotFound, "SecurityGroupNotFound");
        // Nor may bob's rule name alice's group as its remote.
        var bobs = await NewGroupAsync(bob);
        await ExpectAsync(PostRule(bob, new JsonObject { ["security_group_id"] = bobs, ["direction"] = "ingress", ["remote_group_id"] = group }), HttpStatusCode.NotFound, "SecurityGroupNotFound");
        var listed = (await ExpectAsync(bob.GetAsync("v2.0/security-groups"), HttpStatusCode.OK))["security_groups"]!.AsArray();
        Assert.DoesNotContain(listed, g => (string?)g!["id"] == group);
        var rules = (await ExpectAsync(bob.GetAsync("v2.0/security-group-rules"), HttpStatusCode.OK))["security_group_rules"]!.AsArray();
        Assert.DoesNotContain(rules, r => (string?)r!["security_group_id"] == group);
        // A project may not make a group for another one.
        await ExpectAsync(PostGroup(bob, new JsonObject { ["name"] = Name("theirs"), ["project_id"] = Guid.NewGuid().ToString("N") }), HttpStatusCode.Forbidden, "PolicyNotAuthorized");
    }

    [Fact]
    public async Task A_rule_naming_a_group_as_its_remote_goes_when_that_group_goes()
    {
        var (alice, _) = await net.MemberAsync();
        var web = await NewGroupAsync(alice);
        var db = await NewGroupAsync(alice);
        var fromWeb = (string)(await ExpectAsync(PostRule(alice, new JsonObject { ["security_group_id"] = db, ["direction"] = "ingress", ["protocol"] = "tcp", ["port_range_min"] = 5432, ["port_range_max"] = 5432, ["remote_group_id"] = web }),
            HttpStatusCode.Created))["security_group_rule"]!["id"]!;
        await ExpectAsync(alice.DeleteAsync($"v2.0/security-groups/{web}"), HttpStatusCode.NoContent);
        await ExpectAsync(alice.GetAsync($"v2.0/security-group-rules/{fromWeb}"), HttpStatusCode.NotFound, "SecurityGroupRuleNotFound");
        var shown = await ExpectAsync(alice.GetAsync($"v2.0/security-groups/{db}"), HttpStatusCode.OK);
        Assert.Equal(2, shown["security_group"]!["security_group_rules"]!.AsArray().Count);
    }

    [Fact]
    public async Task Groups_and_rules_beyond_the_projects_quota_are_OverQuota()
    {
        var (alice, project) = await net.MemberAsync();
        // The default group and one more; rules: the default's 4, the new group's 2 and one more.
        await ExpectAsync(net.Admin().PutAsJsonAsync($"v2.0/quotas/{project}", new JsonObject
        {
            ["quota"] = new JsonObject { ["security_group"] = 2, ["security_group_rule"] = 7 },
        }), HttpStatusCode.OK);
        var group = await NewGroupAsync(alice);
        var over = await ExpectAsync(PostGroup(alice, new JsonObject { ["name"] = Name("third") }), HttpStatusCode.Conflict, "OverQuota");
        Assert.Equal("Quota exceeded for resources: ['security_group'].", (string?)over["NeutronError"]!["message"]);
        await ExpectAsync(PostRule(alice, new JsonObject { ["security_group_id"] = group, ["direction"] = "ingress", ["protocol"] = "icmp" }), HttpStatusCode.Created);
        var rulesOver = await ExpectAsync(PostRule(alice, new JsonObject { ["security_group_id"] = group, ["direction"] = "ingress", ["protocol"] = "udp" }), HttpStatusCode.Conflict, "OverQuota");
        Assert.Equal("Quota exceeded for resources: ['security_group_rule'].", (string?)rulesOver["NeutronError"]!["message"]);
        var details = await ExpectAsync(alice.GetAsync($"v2.0/quotas/{project}/details"), HttpStatusCode.OK);
        Assert.Equal(2, (int)details["quota"]!["security_group"]!["used"]!);
        Assert.Equal(7, (int)details["quota"]!["security_group_rule"]!["used"]!);
    }
}
