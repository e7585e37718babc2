using System.Text.Json.Nodes;

namespace Stratus.BlockStorage.Tests;

/// <summary>
/// The admin's APIs: QoS specs and their volume types, quota classes, os-hosts, the pools and capabilities the backends
/// report, and the extensions list.
/// </summary>
public sealed class AdminApiTests(BlockStorageServer server) : IClassFixture<BlockStorageServer>
{
    static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..6];

    async Task<string> NewTypeAsync(HttpClient admin, string name, JsonObject? specs = null) =>
        (string)(await admin.ExpectAsync(HttpMethod.Post, "types", 200, new JsonObject
        {
            ["volume_type"] = new JsonObject { ["name"] = name, ["extra_specs"] = specs ?? [] },
        }))["volume_type"]!["id"]!;

    [Fact]
    public async Task Qos_specs_hold_keys_and_belong_to_volume_types_one_each()
    {
        using var admin = await server.AdminAsync();
        var (member, _, _) = await server.NewProjectUserAsync();
        var name = Unique("qos");
        var created = await admin.ExpectAsync(HttpMethod.Post, "qos-specs", 200, new JsonObject
        {
            ["qos_specs"] = new JsonObject { ["name"] = name, ["consumer"] = "front-end", ["read_iops_sec"] = "2000" },
        });
        var qos = created["qos_specs"]!;
        var id = (string)qos["id"]!;
        Assert.Equal(("front-end", "2000"), ((string?)qos["consumer"], (string?)qos["specs"]!["read_iops_sec"]));
        Assert.Null(qos["specs"]!["consumer"]);
        Assert.EndsWith($"/qos-specs/{id}", (string?)created["links"]![0]!["href"]);
        await admin.ExpectAsync(HttpMethod.Post, "qos-specs", 409, new JsonObject { ["qos_specs"] = new JsonObject { ["name"] = name } });
        await admin.ExpectAsync(HttpMethod.Post, "qos-specs", 400, new JsonObject { ["qos_specs"] = new JsonObject { ["name"] = Unique("qos"), ["consumer"] = "sideways" } });
        await admin.ExpectAsync(HttpMethod.Post, "qos-specs", 400, new JsonObject { ["qos_specs"] = new JsonObject { ["consumer"] = "both" } });
        var denied = await member.ExpectAsync(HttpMethod.Get, "qos-specs", 403);
        Assert.Equal("Policy doesn't allow volume_extension:qos_specs_manage:get_all to be performed.", (string?)denied["forbidden"]!["message"]);

        var set = await admin.ExpectAsync(HttpMethod.Put, $"qos-specs/{id}", 200, new JsonObject { ["qos_specs"] = new JsonObject { ["iops_bytes"] = "500" } });
        Assert.Equal("500", (string?)set["qos_specs"]!["iops_bytes"]);
        var missing = await admin.ExpectAsync(HttpMethod.Put, $"qos-specs/{id}/delete_keys", 404, new JsonObject { ["keys"] = new JsonArray("iops_bytes", "nope") });
        Assert.Equal($"QoS spec {id} has no spec with key nope.", (string?)missing["itemNotFound"]!["message"]);
        var specs = (await admin.ExpectAsync(HttpMethod.Get, $"qos-specs/{id}", 200))["qos_specs"]!["specs"]!.AsObject();
        Assert.Equal(["read_iops_sec"], specs.Select(p => p.Key));
        await admin.ExpectAsync(HttpMethod.Get, $"qos-specs/{Guid.NewGuid()}", 404);

        var typeName = Unique("gold");
        var typeId = await NewTypeAsync(admin, typeName);
        await admin.ExpectAsync(HttpMethod.Get, $"qos-specs/{id}/associate", 400);
        await admin.ExpectAsync(HttpMethod.Get, $"qos-specs/{id}/associate?vol_type_id={Guid.NewGuid()}", 404);
        await admin.ExpectAsync(HttpMethod.Get, $"qos-specs/{id}/associate?vol_type_id={typeId}", 202);
        Assert.Equal(id, (string?)(await admin.ExpectAsync(HttpMethod.Get, $"types/{typeId}", 200))["volume_type"]!["qos_specs_id"]);
        var associations = (await admin.ExpectAsync(HttpMethod.Get, $"qos-specs/{id}/associations", 200))["qos_associations"]!.AsArray();
        Assert.Equal([(typeId, typeName, "volume_type")], associations.Select(a => ((string?)a!["id"], (string?)a["name"], (string?)a["association_type"])));
        // A type has one QoS specs at most.
        var other = (string)(await admin.ExpectAsync(HttpMethod.Post, "qos-specs", 200, new JsonObject { ["qos_specs"] = new JsonObject { ["name"] = Unique("qos") } }))["qos_specs"]!["id"]!;
        var taken = await admin.ExpectAsync(HttpMethod.Get, $"qos-specs/{other}/associate?vol_type_id={typeId}", 400);
        Assert.Equal($"Invalid volume type: Type {typeId} is already associated with another qos specs: {id}", (string?)taken["badRequest"]!["message"]);

        var inUse = await admin.ExpectAsync(HttpMethod.Delete, $"qos-specs/{id}", 400);
        Assert.Equal("Qos specs still in use.", (string?)inUse["badRequest"]!["message"]);
        await admin.ExpectAsync(HttpMethod.Delete, $"qos-specs/{id}?force=True", 202);
        Assert.Null((await admin.ExpectAsync(HttpMethod.Get, $"types/{typeId}", 200))["volume_type"]!["qos_specs_id"]);
        await admin.ExpectAsync(HttpMethod.Get, $"qos-specs/{other}/associate?vol_type_id={typeId}", 202);
        await admin.ExpectAsync(HttpMethod.Get, $"qos-specs/{other}/disassociate_all", 202);
        Assert.Empty((await admin.ExpectAsync(HttpMethod.Get, $"qos-specs/{other}/associations", 200))["qos_associations"]!.AsArray());
    }

    [Fact]
    public async Task Front_end_qos_specs_reach_the_connection_info_scaled_per_gigabyte()
    {
        using var admin = await server.AdminAsync();
        var (member, _, _) = await server.NewProjectUserAsync();
        var qos = (string)(await admin.ExpectAsync(HttpMethod.Post, "qos-specs", 200, new JsonObject
        {
            ["qos_specs"] = new JsonObject
            {
                ["name"] = Unique("qos"),
                ["consumer"] = "front-end",
                ["total_bytes_sec"] = "1000",
                ["read_iops_sec_per_gb"] = "100",
                ["read_iops_sec_per_gb_min"] = "300",
                ["write_iops_sec_per_gb"] = "100",
                ["write_iops_sec_max"] = "150",
            },
        }))["qos_specs"]!["id"]!;
        var typeName = Unique("limited");
        await admin.ExpectAsync(HttpMethod.Get, $"qos-specs/{qos}/associate?vol_type_id={await NewTypeAsync(admin, typeName)}", 202);
        var id = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 2, ["volume_type"] = typeName }))["id"]!;
        await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 202, VolumeCalls.Action("os-reserve"));
        var info = await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 200,
            VolumeCalls.Action("os-initialize_connection", new JsonObject { ["connector"] = new JsonObject { ["host"] = "compute1" } }));
        var specs = info["connection_info"]!["data"]!["qos_specs"]!.AsObject();
        Assert.Equal(("1000", 300L, 150L), ((string?)specs["total_bytes_sec"], (long)specs["read_iops_sec"]!, (long)specs["write_iops_sec"]!));
        Assert.Equal(["read_iops_sec", "total_bytes_sec", "write_iops_sec"], specs.Select(p => p.Key).Order());

        // Back-end specs are the backend's business: the hypervisor gets none.
        await admin.ExpectAsync(HttpMethod.Put, $"qos-specs/{qos}", 200, new JsonObject { ["qos_specs"] = new JsonObject { ["consumer"] = "back-end" } });
        info = await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 200,
            VolumeCalls.Action("os-initialize_connection", new JsonObject { ["connector"] = new JsonObject { ["host"] = "compute1" } }));
        Assert.True(info["connection_info"]!["data"]!.AsObject().ContainsKey("qos_specs"));
        Assert.Null(info["connection_info"]!["data"]!["qos_specs"]);
    }

    [Fact]
    public async Task The_default_quota_class_sets_every_projects_defaults_and_a_types_quota_is_enforced()
    {
        using var admin = await server.AdminAsync();
        var typeName = Unique("metered");
        await NewTypeAsync(admin, typeName);
        var shown = (await admin.ExpectAsync(HttpMethod.Get, "os-quota-class-sets/default", 200))["quota_class_set"]!;
        Assert.Equal(("default", 10, -1), ((string?)shown["id"], (int)shown["volumes"]!, (int)shown[$"volumes_{typeName}"]!));
        var bad = await admin.ExpectAsync(HttpMethod.Put, "os-quota-class-sets/default", 400, new JsonObject { ["quota_class_set"] = new JsonObject { ["volumes_nosuchtype"] = 1 } });
        Assert.Equal("Invalid input received: Bad key(s) in quota class set: volumes_nosuchtype", (string?)bad["badRequest"]!["message"]);
        var (member, project, _) = await server.NewProjectUserAsync();
        Assert.Equal(403, (await member.SendAsync(HttpMethod.Put, "os-quota-class-sets/default", new JsonObject { ["quota_class_set"] = new JsonObject { ["volumes"] = 1 } })).Status);

        var updated = (await admin.ExpectAsync(HttpMethod.Put, "os-quota-class-sets/default", 200, new JsonObject
        {
            ["quota_class_set"] = new JsonObject { [$"volumes_{typeName}"] = 1, ["snapshots"] = "11" },
        }))["quota_class_set"]!;
        try
        {
            Assert.Equal((1, 11), ((int)updated[$"volumes_{typeName}"]!, (int)updated["snapshots"]!));
            var defaults = (await admin.ExpectAsync(HttpMethod.Get, $"os-quota-sets/{project}/defaults", 200))["quota_set"]!;
            Assert.Equal((1, 11), ((int)defaults[$"volumes_{typeName}"]!, (int)defaults["snapshots"]!));

            await member.CreateVolumeAsync(new JsonObject { ["size"] = 1, ["volume_type"] = typeName });
            var over = await member.ExpectAsync(HttpMethod.Post, "volumes", 413, new JsonObject { ["volume"] = new JsonObject { ["size"] = 1, ["volume_type"] = typeName } });
            Assert.Equal($"Maximum number of volumes allowed (1) exceeded for quota 'volumes_{typeName}'.", (string?)over["overLimit"]!["message"]);
            await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 });
            var usage = (await member.ExpectAsync(HttpMethod.Get, $"os-quota-sets/{project}?usage=true", 200))["quota_set"]!;
            Assert.Equal((2, 1, 1), ((int)usage["volumes"]!["in_use"]!, (int)usage[$"volumes_{typeName}"]!["in_use"]!, (int)usage[$"gigabytes_{typeName}"]!["in_use"]!));
        }
        finally
        {
            await admin.ExpectAsync(HttpMethod.Put, "os-quota-class-sets/default", 200, new JsonObject
            {
                ["quota_class_set"] = new JsonObject { [$"volumes_{typeName}"] = -1, ["snapshots"] = 10 },
            });
        }
    }

    /// <summary>The pools once the scheduler has the backend's report (it asks at start; reports follow each heartbeat).</summary>
    static async Task<JsonArray> PoolsAsync(HttpClient admin, string query = "?detail=True")
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var pools = (await admin.ExpectAsync(HttpMethod.Get, "scheduler-stats/get_pools" + query, 200))["pools"]!.AsArray();
            if (pools.Count > 0 || DateTime.UtcNow > deadline) return pools;
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Pools_and_capabilities_are_what_the_backend_reports()
    {
        using var admin = await server.AdminAsync();
        var backend = server.Options.Host + "@file";
        var pool = (await PoolsAsync(admin)).Single()!;
        Assert.Equal(backend + "#file", (string?)pool["name"]);
        var c = pool["capabilities"]!;
        Assert.Equal(("file", "Stratus", "local", "file"), ((string?)c["volume_backend_name"], (string?)c["vendor_name"], (string?)c["storage_protocol"], (string?)c["pool_name"]));
        Assert.True((double)c["total_capacity_gb"]! > 0 && (double)c["free_capacity_gb"]! <= (double)c["total_capacity_gb"]!);
        Assert.Null((await admin.ExpectAsync(HttpMethod.Get, "scheduler-stats/get_pools", 200))["pools"]![0]!["capabilities"]);
        Assert.Empty((await admin.ExpectAsync(HttpMethod.Get, "scheduler-stats/get_pools?name=elsewhere%23file", 200))["pools"]!.AsArray());
        var elsewhere = Unique("elsewhere");
        await NewTypeAsync(admin, elsewhere, new JsonObject { ["volume_backend_name"] = "lvm" });
        Assert.Empty((await admin.ExpectAsync(HttpMethod.Get, $"scheduler-stats/get_pools?volume_type={elsewhere}", 200))["pools"]!.AsArray());

        var capabilities = await admin.ExpectAsync(HttpMethod.Get, $"capabilities/{backend}%23file", 200);
        Assert.Equal($"OS::Storage::Capabilities::{backend}", (string?)capabilities["namespace"]);
        Assert.Equal(("Stratus", "file", "local"), ((string?)capabilities["vendor_name"], (string?)capabilities["volume_backend_name"], (string?)capabilities["storage_protocol"]));
        Assert.Equal("Thin Provisioning", (string?)capabilities["properties"]!["thin_provisioning"]!["title"]);
        var unknown = await admin.ExpectAsync(HttpMethod.Get, "capabilities/nohost@nobackend", 404);
        Assert.Equal("Can't find service: nohost@nobackend", (string?)unknown["itemNotFound"]!["message"]);
        var (member, _, _) = await server.NewProjectUserAsync();
        Assert.Equal(403, (await member.SendAsync(HttpMethod.Get, "scheduler-stats/get_pools")).Status);
        Assert.Equal(403, (await member.SendAsync(HttpMethod.Get, $"capabilities/{backend}")).Status);
    }

    [Fact]
    public async Task Os_hosts_lists_the_services_hosts_and_a_backends_volumes_per_project()
    {
        using var admin = await server.AdminAsync();
        var (member, project, _) = await server.NewProjectUserAsync();
        await member.CreateVolumeAsync(new JsonObject { ["size"] = 2 });
        var hosts = (await admin.ExpectAsync(HttpMethod.Get, "os-hosts", 200))["hosts"]!.AsArray();
        var backend = server.Options.Host + "@file";
        Assert.Contains(hosts, h => (string?)h!["host_name"] == server.Options.Host && (string?)h["service"] == "cinder-scheduler");
        var volumeHost = hosts.Single(h => (string?)h!["service"] == "cinder-volume")!;
        Assert.Equal((backend, "available", "enabled", "nova"),
            ((string?)volumeHost["host_name"], (string?)volumeHost["service-status"], (string?)volumeHost["service-state"], (string?)volumeHost["zone"]));

        var resources = (await admin.ExpectAsync(HttpMethod.Get, $"os-hosts/{backend}", 200))["host"]!.AsArray().Select(r => r!["resource"]!).ToList();
        Assert.Equal("(total)", (string?)resources[0]["project"]);
        var mine = resources.Single(r => (string?)r["project"] == project);
        Assert.Equal(("1", "2", "0"), ((string?)mine["volume_count"], (string?)mine["total_volume_gb"], (string?)mine["snapshot_count"]));
        await admin.ExpectAsync(HttpMethod.Get, "os-hosts/nohost@nobackend", 404);
        Assert.Equal(403, (await member.SendAsync(HttpMethod.Get, "os-hosts")).Status);
    }

    [Fact]
    public async Task Bad_input_gets_Cinders_4xx_never_a_500()
    {
        using var admin = await server.AdminAsync();
        var qos = (string)(await admin.ExpectAsync(HttpMethod.Post, "qos-specs", 200, new JsonObject { ["qos_specs"] = new JsonObject { ["name"] = Unique("qos") } }))["qos_specs"]!["id"]!;
        (string Method, string Path, JsonNode? Body, int Status)[] cases =
        [
            ("POST", "qos-specs", new JsonObject { ["qos_specs"] = new JsonObject { ["name"] = Unique("qos"), ["iops"] = 5 } }, 400),
            ("POST", "qos-specs", new JsonObject { ["qos_specs"] = new JsonObject { ["name"] = "  " } }, 400),
            ("POST", "qos-specs", new JsonObject { ["qos_specs"] = "fast" }, 400),
            ("PUT", $"qos-specs/{qos}", new JsonObject { ["qos_specs"] = new JsonArray() }, 400),
            ("PUT", $"qos-specs/{qos}", new JsonObject { ["qos_specs"] = new JsonObject { ["consumer"] = "nobody" } }, 400),
            ("PUT", $"qos-specs/{qos}/delete_keys", new JsonObject { ["keys"] = "iops" }, 400),
            ("PUT", $"qos-specs/{qos}/delete_keys", new JsonObject { ["keys"] = new JsonArray("a", "a") }, 400),
            ("PUT", $"qos-specs/{qos}/delete_keys", new JsonObject(), 400),
            ("GET", $"qos-specs/{qos}/disassociate?vol_type_id={Guid.NewGuid()}", null, 404),
            ("PUT", "os-quota-class-sets/default", new JsonObject { ["quota_class_set"] = new JsonObject { ["volumes"] = "many" } }, 400),
            ("PUT", "os-quota-class-sets/default", new JsonObject { ["quota_class_set"] = new JsonObject { ["volumes"] = -2 } }, 400),
            ("PUT", "os-quota-class-sets/default", new JsonObject { ["quota_class_set"] = 5 }, 400),
            ("GET", "scheduler-stats/get_pools?volume_type=no-such-type", null, 404),
            ("POST", $"os-volume-transfer/{Guid.NewGuid()}/accept", new JsonObject(), 400),
            ("POST", $"os-volume-transfer/{Guid.NewGuid()}/accept", new JsonObject { ["accept"] = new JsonObject { ["auth_key"] = 1.5 } }, 400),
            ("POST", $"os-volume-transfer/{Guid.NewGuid()}/accept", new JsonObject { ["accept"] = new JsonObject { ["auth_key"] = "k" } }, 404),
            ("POST", "os-volume-transfer", new JsonObject { ["transfer"] = new JsonObject { ["volume_id"] = Guid.NewGuid().ToString(), ["name"] = 7 } }, 400),
            ("GET", $"volume-transfers?sort=color:asc", null, 400),
        ];
        foreach (var (method, path, body, status) in cases)
            await admin.ExpectAsync(new HttpMethod(method), path, status, body);
    }

    [Fact]
    public async Task Extensions_list_what_is_served_and_only_that()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var extensions = (await member.ExpectAsync(HttpMethod.Get, "extensions", 200))["extensions"]!.AsArray();
        var aliases = extensions.Select(e => (string?)e!["alias"]).ToList();
        Assert.Contains("os-hosts", aliases);
        Assert.Contains("os-volume-transfer", aliases);
        Assert.Contains("qos-specs", aliases);
        Assert.DoesNotContain("backups", aliases);
        Assert.DoesNotContain("encryption", aliases);
        Assert.Equal("Hosts", (string?)(await member.ExpectAsync(HttpMethod.Get, "extensions/os-hosts", 200))["extension"]!["name"]);
        await member.ExpectAsync(HttpMethod.Get, "extensions/backups", 404);
    }
}
