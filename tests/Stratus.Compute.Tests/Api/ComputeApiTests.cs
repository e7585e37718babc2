using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Compute.Tests.Api;

/// <summary>The compute API over real HTTP, with a real identity and image service; placement is not configured here.</summary>
public class ComputeApiTests(ComputeServer server) : IClassFixture<ComputeServer>
{
    [Fact]
    public async Task Version_discovery_needs_no_token_and_gives_the_microversion_range()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(server.ComputeUrl + "/") };
        var versions = await (await anonymous.GetAsync("")).JsonAsync();
        var v21 = versions["versions"]!.AsArray().Single(v => (string?)v!["id"] == "v2.1")!;
        Assert.Equal("CURRENT", (string?)v21["status"]);
        Assert.Equal("2.1", (string?)v21["min_version"]);
        Assert.Equal("2.92", (string?)v21["version"]);
        var noToken = await anonymous.GetAsync("v2.1/servers");
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
    }

    [Fact]
    public async Task Microversions_are_negotiated_and_stamped()
    {
        var latest = await server.ComputeClient(server.Identity.AdminToken, "latest").GetAsync("flavors");
        Assert.Equal("compute 2.92", latest.Headers.GetValues("OpenStack-API-Version").Single());
        Assert.Contains("OpenStack-API-Version", latest.Headers.Vary);
        var none = await server.ComputeAdmin.GetAsync("flavors");
        Assert.Equal("2.1", none.Headers.GetValues("X-OpenStack-Nova-API-Version").Single());
        var tooHigh = await server.ComputeClient(server.Identity.AdminToken, "2.200").GetAsync("flavors");
        Assert.Equal(HttpStatusCode.NotAcceptable, tooHigh.StatusCode);
        var bad = await server.ComputeClient(server.Identity.AdminToken, "two").GetAsync("flavors");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.JsonAsync()).ContainsKey("badRequest"));
    }

    [Fact]
    public async Task Admins_manage_flavors_members_only_read_them()
    {
        var name = "f-" + Guid.NewGuid().ToString("N")[..6];
        var created = await server.ComputeAdmin.PostJsonAsync("flavors", new JsonObject
        {
            ["flavor"] = new JsonObject { ["name"] = name, ["ram"] = 256, ["vcpus"] = 2, ["disk"] = 1, ["id"] = name },
        }, 200);
        Assert.Equal(256, (int)created["flavor"]!["ram"]!);
        var (member, _, _) = await server.NewComputeUserAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await member.PostAsJsonAsync("flavors", new JsonObject
        {
            ["flavor"] = new JsonObject { ["name"] = name + "x", ["ram"] = 1, ["vcpus"] = 1, ["disk"] = 1 },
        })).StatusCode);
        var list = await (await member.GetAsync("flavors/detail")).JsonAsync();
        Assert.Contains(list["flavors"]!.AsArray(), f => (string?)f!["id"] == name && (int)f["vcpus"]! == 2);
        Assert.Equal(HttpStatusCode.Conflict, (await server.ComputeAdmin.PostAsJsonAsync("flavors", new JsonObject
        {
            ["flavor"] = new JsonObject { ["name"] = name, ["ram"] = 1, ["vcpus"] = 1, ["disk"] = 1 },
        })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await server.ComputeAdmin.PostAsJsonAsync("flavors", new JsonObject
        {
            ["flavor"] = new JsonObject { ["name"] = name + "-neg", ["ram"] = -1, ["vcpus"] = 1, ["disk"] = 1 },
        })).StatusCode);

        await server.ComputeAdmin.PostJsonAsync($"flavors/{name}/os-extra_specs", new JsonObject
        {
            ["extra_specs"] = new JsonObject { ["hw:cpu_policy"] = "dedicated" },
        }, 200);
        var specs = await (await member.GetAsync($"flavors/{name}/os-extra_specs")).JsonAsync();
        Assert.Equal("dedicated", (string?)specs["extra_specs"]!["hw:cpu_policy"]);
        Assert.Equal(HttpStatusCode.Accepted, (await server.ComputeAdmin.DeleteAsync($"flavors/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await member.GetAsync($"flavors/{name}")).StatusCode);
    }

    [Fact]
    public async Task Key_pairs_are_generated_or_imported_per_user()
    {
        var (alice, _, _) = await server.NewComputeUserAsync("2.2");
        var (bob, _, _) = await server.NewComputeUserAsync("2.2");
        var generated = await alice.PostJsonAsync("os-keypairs", new JsonObject { ["keypair"] = new JsonObject { ["name"] = "gen" } }, 201);
        Assert.StartsWith("-----BEGIN RSA PRIVATE KEY-----", (string?)generated["keypair"]!["private_key"]);
        Assert.StartsWith("ssh-rsa ", (string?)generated["keypair"]!["public_key"]);
        Assert.Matches("^([0-9a-f]{2}:){15}[0-9a-f]{2}$", (string?)generated["keypair"]!["fingerprint"]);
        var publicKey = (string)generated["keypair"]!["public_key"]!;
        var imported = await bob.PostJsonAsync("os-keypairs", new JsonObject { ["keypair"] = new JsonObject { ["name"] = "gen", ["public_key"] = publicKey } }, 201);
        Assert.Equal((string?)generated["keypair"]!["fingerprint"], (string?)imported["keypair"]!["fingerprint"]);
        Assert.Equal(HttpStatusCode.Conflict, (await alice.PostAsJsonAsync("os-keypairs", new JsonObject { ["keypair"] = new JsonObject { ["name"] = "gen", ["public_key"] = publicKey } })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await alice.PostAsJsonAsync("os-keypairs", new JsonObject { ["keypair"] = new JsonObject { ["name"] = "bad", ["public_key"] = "not a key" } })).StatusCode);
        Assert.Single((await (await alice.GetAsync("os-keypairs")).JsonAsync())["keypairs"]!.AsArray());
        Assert.Equal(HttpStatusCode.NoContent, (await alice.DeleteAsync("os-keypairs/gen")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync("os-keypairs/gen")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync("os-keypairs/gen")).StatusCode);
    }

    [Fact]
    public async Task An_imported_public_key_comes_back_byte_for_byte()
    {
        var (alice, _, _) = await server.NewComputeUserAsync("2.2");
        var generated = (string)(await alice.PostJsonAsync("os-keypairs", new JsonObject { ["keypair"] = new JsonObject { ["name"] = "g" } }, 201))["keypair"]!["public_key"]!;
        // As a file ssh-keygen writes it: with its comment and a trailing newline, which clients compare with what they sent.
        var sent = generated.TrimEnd() + " alice@laptop\n";
        await alice.PostJsonAsync("os-keypairs", new JsonObject { ["keypair"] = new JsonObject { ["name"] = "file", ["public_key"] = sent } }, 201);
        Assert.Equal(sent, (string?)(await (await alice.GetAsync("os-keypairs/file")).JsonAsync())["keypair"]!["public_key"]);
        var listed = (await (await alice.GetAsync("os-keypairs")).JsonAsync())["keypairs"]!.AsArray().Single(k => (string?)k!["keypair"]!["name"] == "file");
        Assert.Equal(sent, (string?)listed!["keypair"]!["public_key"]);
    }

    [Fact]
    public async Task Extensions_are_Novas_v2_list_and_each_shows_by_alias()
    {
        var (alice, _, _) = await server.NewComputeUserAsync();
        var extensions = (await (await alice.GetAsync("extensions")).JsonAsync())["extensions"]!.AsArray();
        Assert.Equal(99, extensions.Count);
        Assert.Contains(extensions, e => (string?)e!["alias"] == "os-keypairs" && (string?)e["name"] == "Keypairs");
        var one = (await (await alice.GetAsync("extensions/OS-DCF")).JsonAsync())["extension"]!;
        Assert.Equal("DiskConfig", (string?)one["name"]);
        Assert.Equal("2014-12-03T00:00:00Z", (string?)one["updated"]);
        var missing = await alice.GetAsync("extensions/no-such");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(404, (int?)(await missing.JsonAsync())["itemNotFound"]!["code"]);
    }

    [Fact]
    public async Task Compute_services_heartbeat_and_can_be_disabled_and_forced_down()
    {
        JsonArray services = [];
        for (var i = 0; i < 50 && services.Count < 3; i++)
        {
            services = (await (await server.ComputeClient(server.Identity.AdminToken, "2.53").GetAsync("os-services")).JsonAsync())["services"]!.AsArray();
            await Task.Delay(100);
        }
        Assert.Equal(["nova-compute", "nova-conductor", "nova-scheduler"], services.Select(s => (string)s!["binary"]!).Order());
        Assert.All(services, s => Assert.Equal("up", (string?)s!["state"]));
        var compute = services.Single(s => (string?)s!["binary"] == "nova-compute")!;
        Assert.Equal("nova", (string?)compute["zone"]);
        var admin253 = server.ComputeClient(server.Identity.AdminToken, "2.53");
        var disabled = await (await admin253.PutAsJsonAsync($"os-services/{compute["id"]}", new JsonObject { ["status"] = "disabled", ["disabled_reason"] = "maintenance" })).JsonAsync();
        Assert.Equal("disabled", (string?)disabled["service"]!["status"]);
        Assert.Equal("maintenance", (string?)disabled["service"]!["disabled_reason"]);
        var down = await (await admin253.PutAsJsonAsync($"os-services/{compute["id"]}", new JsonObject { ["forced_down"] = true })).JsonAsync();
        Assert.Equal("down", (string?)down["service"]!["state"]);
        await admin253.PutAsJsonAsync($"os-services/{compute["id"]}", new JsonObject { ["forced_down"] = false, ["status"] = "enabled" });
        var (member, _, _) = await server.NewComputeUserAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync("os-services")).StatusCode);
        var hypervisors = await (await server.ComputeAdmin.GetAsync("os-hypervisors/detail")).JsonAsync();
        Assert.Equal("compute-test", (string?)hypervisors["hypervisors"]![0]!["hypervisor_hostname"]);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync("os-hypervisors")).StatusCode);
    }

    [Fact]
    public async Task Server_create_checks_flavor_image_networks_and_key()
    {
        var (member, image, _) = await server.NewComputeUserAsync("2.37");
        var imageId = await server.NewImageAsync(image);
        var flavor = "f-" + Guid.NewGuid().ToString("N")[..6];
        await server.ComputeAdmin.PostJsonAsync("flavors", new JsonObject { ["flavor"] = new JsonObject { ["name"] = flavor, ["id"] = flavor, ["ram"] = 64, ["vcpus"] = 1, ["disk"] = 0 } }, 200);
        JsonObject Server(Action<JsonObject>? change = null)
        {
            var s = new JsonObject { ["name"] = "vm", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["networks"] = "none" };
            change?.Invoke(s);
            return new JsonObject { ["server"] = s };
        }
        async Task<(int, string)> Create(JsonObject body)
        {
            var r = await member.PostAsJsonAsync("servers", body);
            return ((int)r.StatusCode, await r.Content.ReadAsStringAsync());
        }
        Assert.Equal(400, (await Create(Server(s => s["flavorRef"] = "nope"))).Item1);
        Assert.Equal(400, (await Create(Server(s => s["imageRef"] = Guid.NewGuid().ToString()))).Item1);
        Assert.Equal(400, (await Create(Server(s => s.Remove("networks")))).Item1);
        Assert.Equal(400, (await Create(Server(s => s["networks"] = "auto"))).Item1);
        Assert.Equal(400, (await Create(Server(s => s["key_name"] = "missing"))).Item1);
        Assert.Equal(400, (await Create(Server(s => s["user_data"] = "%%% not base64"))).Item1);
        var (status, text) = await Create(Server(s => s["name"] = ""));
        Assert.Equal(400, status);
        Assert.Contains("badRequest", text);
        Assert.Empty((await (await member.GetAsync("servers")).JsonAsync())["servers"]!.AsArray());
    }

    [Fact]
    public async Task Without_placement_a_server_goes_to_ERROR_with_a_fault_that_says_why()
    {
        var (member, image, _) = await server.NewComputeUserAsync("2.37");
        var imageId = await server.NewImageAsync(image);
        var flavor = "f-" + Guid.NewGuid().ToString("N")[..6];
        await server.ComputeAdmin.PostJsonAsync("flavors", new JsonObject { ["flavor"] = new JsonObject { ["name"] = flavor, ["id"] = flavor, ["ram"] = 64, ["vcpus"] = 1, ["disk"] = 0 } }, 200);
        var created = await member.PostJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "vm", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["networks"] = "none" },
        }, 202);
        var id = (string)created["server"]!["id"]!;
        Assert.False(string.IsNullOrEmpty((string?)created["server"]!["adminPass"]));
        JsonObject shown = [];
        for (var i = 0; i < 100; i++)
        {
            shown = (await (await member.GetAsync($"servers/{id}")).JsonAsync())["server"]!.AsObject();
            if ((string?)shown["status"] == "ERROR") break;
            await Task.Delay(100);
        }
        Assert.Equal("ERROR", (string?)shown["status"]);
        Assert.Contains("placement", (string?)shown["fault"]!["message"], StringComparison.OrdinalIgnoreCase);
        var actions = await (await member.GetAsync($"servers/{id}/os-instance-actions")).JsonAsync();
        Assert.Equal("create", (string?)actions["instanceActions"]![0]!["action"]);
        Assert.Equal(HttpStatusCode.NoContent, (await member.DeleteAsync($"servers/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await member.GetAsync($"servers/{id}")).StatusCode);
    }

    [Fact]
    public async Task Servers_of_other_projects_do_not_exist_for_members()
    {
        var (alice, image, _) = await server.NewComputeUserAsync("2.37");
        var (bob, _, _) = await server.NewComputeUserAsync("2.37");
        var imageId = await server.NewImageAsync(image);
        var flavor = "f-" + Guid.NewGuid().ToString("N")[..6];
        await server.ComputeAdmin.PostJsonAsync("flavors", new JsonObject { ["flavor"] = new JsonObject { ["name"] = flavor, ["id"] = flavor, ["ram"] = 64, ["vcpus"] = 1, ["disk"] = 0 } }, 200);
        var id = (string)(await alice.PostJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "mine", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["networks"] = "none" },
        }, 202))["server"]!["id"]!;
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"servers/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.DeleteAsync($"servers/{id}")).StatusCode);
        Assert.Empty((await (await bob.GetAsync("servers")).JsonAsync())["servers"]!.AsArray());
        var all = await (await server.ComputeAdmin.GetAsync("servers?all_tenants=1")).JsonAsync();
        Assert.Contains(all["servers"]!.AsArray(), s => (string?)s!["id"] == id);
    }

    [Fact]
    public async Task Quotas_limit_server_creation_with_403()
    {
        var (member, image, project) = await server.NewComputeUserAsync("2.37");
        var imageId = await server.NewImageAsync(image);
        (await server.ComputeAdmin.PutAsJsonAsync($"os-quota-sets/{project}", new JsonObject { ["quota_set"] = new JsonObject { ["instances"] = 1 } })).EnsureSuccessStatusCode();
        var flavor = "f-" + Guid.NewGuid().ToString("N")[..6];
        await server.ComputeAdmin.PostJsonAsync("flavors", new JsonObject { ["flavor"] = new JsonObject { ["name"] = flavor, ["id"] = flavor, ["ram"] = 64, ["vcpus"] = 1, ["disk"] = 0 } }, 200);
        var body = new JsonObject { ["server"] = new JsonObject { ["name"] = "q", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["networks"] = "none" } };
        await member.PostJsonAsync("servers", body, 202);
        var over = await member.PostAsJsonAsync("servers", body);
        Assert.Equal(HttpStatusCode.Forbidden, over.StatusCode);
        Assert.Contains("Quota exceeded for instances", await over.Content.ReadAsStringAsync());
        var limits = await (await member.GetAsync("limits")).JsonAsync();
        Assert.Equal(1, (int)limits["limits"]!["absolute"]!["maxTotalInstances"]!);
        Assert.Equal(1, (int)limits["limits"]!["absolute"]!["totalInstancesUsed"]!);
    }
}
