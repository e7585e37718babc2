using System.Text.Json.Nodes;
using Stratus.Acceptance.Tests.Infrastructure;

namespace Stratus.Acceptance.Tests;

/// <summary>
/// The seed's identity steps (sections 4.1 and 4.2), typed as the seed types them, with the real
/// openstack CLI against <c>./stratus node start</c>.
/// </summary>
public class SeedIdentityTests(StratusNode node) : IClassFixture<StratusNode>
{
    static List<string> Column(JsonNode json, string name) =>
        json.AsArray().Select(r => r![name]?.ToString() ?? "").ToList();

    [Fact]
    public async Task Bootstrap_with_RegionTwo_adds_the_region_and_its_identity_endpoints()
    {
        var regions = Column((await node.OpenStackAsync("region", "list", "-f", "json")).Json, "Region");
        Assert.Contains("RegionOne", regions);

        // Seed 4.1, run against the live node's database (SQLite in WAL mode lets both work at once).
        var url = node.AuthUrl + "/";
        (await ProcessRunner.RunAsync(ProcessRunner.Stratus, ["keystone-manage", "--config-dir", node.ConfigDir, "bootstrap",
            "--bootstrap-password", StratusNode.Password, "--bootstrap-admin-url", url, "--bootstrap-internal-url", url,
            "--bootstrap-public-url", url, "--bootstrap-region-id", "RegionTwo"])).EnsureSuccess("keystone-manage bootstrap");

        regions = Column((await node.OpenStackAsync("region", "list", "-f", "json")).Json, "Region");
        Assert.Contains("RegionOne", regions);
        Assert.Contains("RegionTwo", regions);

        var identity = (await node.OpenStackAsync("endpoint", "list", "--service", "identity", "-f", "json")).Json.AsArray();
        var inTwo = identity.Where(e => e!["Region"]!.ToString() == "RegionTwo").Select(e => e!["Interface"]!.ToString()).Order().ToList();
        Assert.Equal(["admin", "internal", "public"], inTwo);

        // Seed 4.1: RegionTwo's image endpoints point at its own controller (node init already put glance in the catalog).
        var services = await node.OpenStackAsync("service", "list", "-f", "value", "-c", "Name", "-c", "Type");
        Assert.Contains("glance image", services.Stdout);
        foreach (var iface in new[] { "public", "internal", "admin" })
            await node.OpenStackAsync("endpoint", "create", "--region", "RegionTwo", "image", iface, "http://172.16.3.72:9292");
        // Block storage is in the catalog too (node init registered cinderv3): the seed only adds RegionTwo's endpoint.
        Assert.Contains("cinderv3 volumev3", services.Stdout);
        await node.OpenStackAsync("endpoint", "create", "--region", "RegionTwo", "volumev3", "public", "http://172.16.3.72:8776/v3/%(project_id)s");

        var two = (await node.OpenStackAsync("endpoint", "list", "--region", "RegionTwo", "-f", "json")).Json.AsArray();
        Assert.Equal(3, two.Count(e => e!["Service Type"]!.ToString() == "image" && e["URL"]!.ToString() == "http://172.16.3.72:9292"));
        Assert.Contains(two, e => e!["URL"]!.ToString() == "http://172.16.3.72:8776/v3/%(project_id)s");
        Assert.DoesNotContain(two, e => e!["Region"]!.ToString() != "RegionTwo");

        // The catalog filtered by region is what a RegionTwo service will find.
        var catalog = (await node.OpenStackAsync("catalog", "show", "image", "-f", "json")).Json;
        Assert.Contains("172.16.3.72:9292", catalog["endpoints"]!.ToString());
    }

    [Fact]
    public async Task Token_issue_and_catalog_list_work_with_the_seed_openrc()
    {
        var token = (await node.OpenStackAsync("token", "issue", "-f", "json")).Json;
        Assert.False(string.IsNullOrEmpty(token["id"]?.ToString()));
        Assert.Equal("admin", (await node.OpenStackAsync("project", "show", token["project_id"]!.ToString(), "-f", "json")).Json["name"]!.ToString());
        var catalog = (await node.OpenStackAsync("catalog", "list", "-f", "json")).Json.AsArray();
        Assert.Contains(catalog, s => s!["Type"]!.ToString() == "identity" && s["Name"]!.ToString() == "keystone");
    }

    [Fact]
    public async Task Key_rotation_with_keystone_manage_keeps_issued_tokens_valid()
    {
        var before = (await node.OpenStackAsync("token", "issue", "-f", "value", "-c", "id")).Stdout.Trim();
        var keys = Path.Combine(node.ConfigDir, "keystone", "fernet-keys");
        var primaryBefore = Directory.GetFiles(keys).Select(f => int.Parse(Path.GetFileName(f))).Max();
        (await ProcessRunner.RunAsync(ProcessRunner.Stratus, ["keystone-manage", "--config-dir", node.ConfigDir, "fernet_rotate"])).EnsureSuccess("fernet_rotate");
        Assert.Equal(primaryBefore + 1, Directory.GetFiles(keys).Select(f => int.Parse(Path.GetFileName(f))).Max());
        await Task.Delay(1100); // the node re-reads the repository at most once a second
        var after = (await node.OpenStackAsync("token", "issue", "-f", "value", "-c", "id")).Stdout.Trim();
        Assert.NotEqual(before, after);
        // The token from before the rotation still authenticates (its key is now a secondary one).
        var env = node.AdminEnv();
        env.Remove("OS_USERNAME"); env.Remove("OS_PASSWORD"); env.Remove("OS_USER_DOMAIN_NAME");
        env.Remove("OS_PROJECT_NAME"); env.Remove("OS_PROJECT_DOMAIN_NAME");
        env["OS_AUTH_TYPE"] = "v3token";
        env["OS_TOKEN"] = before;
        env["OS_PROJECT_NAME"] = "admin";
        env["OS_PROJECT_DOMAIN_NAME"] = "Default";
        (await node.OpenStackRawAsync(env, "region", "list")).EnsureSuccess("region list with the pre-rotation token");
    }

    [Fact]
    public async Task Projects_users_roles_domains_and_groups_round_trip_through_the_cli()
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        await node.OpenStackAsync("domain", "create", "dom-" + id, "--description", "acceptance");
        Assert.Equal("acceptance", (await node.OpenStackAsync("domain", "show", "dom-" + id, "-f", "json")).Json["description"]!.ToString());

        var project = (await node.OpenStackAsync("project", "create", "--domain", "default", "--description", "Demo", "proj-" + id, "-f", "json")).Json;
        Assert.Equal("Demo", project["description"]!.ToString());
        await node.OpenStackAsync("project", "set", "--description", "Changed", "proj-" + id);
        Assert.Equal("Changed", (await node.OpenStackAsync("project", "show", "proj-" + id, "-f", "json")).Json["description"]!.ToString());
        Assert.Contains("proj-" + id, Column((await node.OpenStackAsync("project", "list", "-f", "json")).Json, "Name"));

        await node.OpenStackAsync("user", "create", "--domain", "default", "--password", "demo-Pa55", "--email", "d@example.org", "user-" + id);
        Assert.Equal("d@example.org", (await node.OpenStackAsync("user", "show", "user-" + id, "-f", "json")).Json["email"]!.ToString());
        await node.OpenStackAsync("role", "create", "role-" + id);
        await node.OpenStackAsync("role", "add", "--project", "proj-" + id, "--user", "user-" + id, "role-" + id);
        await node.OpenStackAsync("role", "add", "--project", "proj-" + id, "--user", "user-" + id, "member");

        var assignments = (await node.OpenStackAsync("role", "assignment", "list", "--names", "--project", "proj-" + id, "-f", "json")).Json.AsArray();
        Assert.Contains(assignments, a => a!["Role"]!.ToString() == "role-" + id && a["User"]!.ToString() == $"user-{id}@Default");

        // The new user can log in to its project with the CLI.
        var env = node.AdminEnv();
        env["OS_USERNAME"] = "user-" + id;
        env["OS_PASSWORD"] = "demo-Pa55";
        env["OS_PROJECT_NAME"] = "proj-" + id;
        var userToken = (await node.OpenStackRawAsync(env, "token", "issue", "-f", "json")).EnsureSuccess("token issue as user").Json;
        Assert.Equal((await node.OpenStackAsync("project", "show", "proj-" + id, "-f", "json")).Json["id"]!.ToString(), userToken["project_id"]!.ToString());
        // ...but is not an admin: listing users is forbidden.
        var denied = await node.OpenStackRawAsync(env, "user", "list");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("403", denied.Stderr);

        await node.OpenStackAsync("group", "create", "grp-" + id);
        await node.OpenStackAsync("group", "add", "user", "grp-" + id, "user-" + id);
        Assert.Contains("user-" + id, Column((await node.OpenStackAsync("user", "list", "--group", "grp-" + id, "-f", "json")).Json, "Name"));

        await node.OpenStackAsync("role", "remove", "--project", "proj-" + id, "--user", "user-" + id, "role-" + id);
        await node.OpenStackAsync("group", "delete", "grp-" + id);
        await node.OpenStackAsync("user", "delete", "user-" + id);
        await node.OpenStackAsync("role", "delete", "role-" + id);
        await node.OpenStackAsync("project", "delete", "proj-" + id);
        await node.OpenStackAsync("domain", "set", "--disable", "dom-" + id);
        await node.OpenStackAsync("domain", "delete", "dom-" + id);
        Assert.DoesNotContain("proj-" + id, Column((await node.OpenStackAsync("project", "list", "-f", "json")).Json, "Name"));
        Assert.DoesNotContain("dom-" + id, Column((await node.OpenStackAsync("domain", "list", "-f", "json")).Json, "Name"));
    }
}
