using System.Text.Json.Nodes;

namespace Stratus.BlockStorage.Tests;

/// <summary>Volume transfers: offered with an auth key, accepted by another project, which then owns the volume, its snapshots and their quota usage.</summary>
public sealed class TransferTests(BlockStorageServer server) : IClassFixture<BlockStorageServer>
{
    static JsonObject Transfer(string volumeId, JsonObject? more = null)
    {
        var t = more ?? [];
        t["volume_id"] = volumeId;
        return new JsonObject { ["transfer"] = t };
    }

    [Fact]
    public async Task Accepting_with_the_auth_key_moves_the_volume_its_snapshots_and_their_quota_usage()
    {
        var (alice, aliceProject, _) = await server.NewProjectUserAsync();
        var (bob, bobProject, _) = await server.NewProjectUserAsync();
        using var admin = await server.AdminAsync();
        var volumeId = (string)(await alice.CreateVolumeAsync(new JsonObject { ["size"] = 2 }))["id"]!;
        var snapshotId = (string)(await alice.ExpectAsync(HttpMethod.Post, "snapshots", 202, new JsonObject { ["snapshot"] = new JsonObject { ["volume_id"] = volumeId } }))["snapshot"]!["id"]!;
        await alice.WaitSnapshotAsync(snapshotId, "available");

        var created = (await alice.ExpectAsync(HttpMethod.Post, "volume-transfers", 202, Transfer(volumeId, new() { ["name"] = " gift " })))["transfer"]!;
        var id = (string)created["id"]!;
        var authKey = (string)created["auth_key"]!;
        Assert.Equal(16, authKey.Length);
        Assert.Equal("gift", (string?)created["name"]);
        Assert.Equal(aliceProject, (string?)created["source_project_id"]);
        Assert.False((bool)created["accepted"]!);
        Assert.Equal("awaiting-transfer", (string?)(await alice.ExpectAsync(HttpMethod.Get, $"volumes/{volumeId}", 200))["volume"]!["status"]);
        // The offer is the owner's to see; the auth key is shown once, at create.
        Assert.Null((await alice.ExpectAsync(HttpMethod.Get, $"os-volume-transfer/{id}", 200))["transfer"]!["auth_key"]);
        Assert.Equal(404, (await bob.SendAsync(HttpMethod.Get, $"os-volume-transfer/{id}")).Status);
        Assert.Empty((await bob.ExpectAsync(HttpMethod.Get, "os-volume-transfer", 200))["transfers"]!.AsArray());

        var wrong = await bob.ExpectAsync(HttpMethod.Post, $"os-volume-transfer/{id}/accept", 400, new JsonObject { ["accept"] = new JsonObject { ["auth_key"] = "0123456789abcdef" } });
        Assert.Equal($"Invalid auth key: Attempt to transfer {id} with invalid auth key.", (string?)wrong["badRequest"]!["message"]);
        var accepted = (await bob.ExpectAsync(HttpMethod.Post, $"os-volume-transfer/{id}/accept", 202, new JsonObject { ["accept"] = new JsonObject { ["auth_key"] = authKey } }))["transfer"]!;
        Assert.Equal(volumeId, (string?)accepted["volume_id"]);

        var volume = (await bob.ExpectAsync(HttpMethod.Get, $"volumes/{volumeId}", 200))["volume"]!;
        Assert.Equal(("available", bobProject), ((string?)volume["status"], (string?)volume["os-vol-tenant-attr:tenant_id"]));
        Assert.Equal(404, (await alice.SendAsync(HttpMethod.Get, $"volumes/{volumeId}")).Status);
        Assert.Equal(bobProject, (string?)(await bob.ExpectAsync(HttpMethod.Get, $"snapshots/{snapshotId}", 200))["snapshot"]!["os-extended-snapshot-attributes:project_id"]);
        var aliceUsage = (await admin.ExpectAsync(HttpMethod.Get, $"os-quota-sets/{aliceProject}?usage=true", 200))["quota_set"]!;
        var bobUsage = (await admin.ExpectAsync(HttpMethod.Get, $"os-quota-sets/{bobProject}?usage=true", 200))["quota_set"]!;
        Assert.Equal((0, 0, 0), ((int)aliceUsage["volumes"]!["in_use"]!, (int)aliceUsage["snapshots"]!["in_use"]!, (int)aliceUsage["gigabytes"]!["in_use"]!));
        Assert.Equal((1, 1, 4), ((int)bobUsage["volumes"]!["in_use"]!, (int)bobUsage["snapshots"]!["in_use"]!, (int)bobUsage["gigabytes"]!["in_use"]!));
        // Accepted is done: the transfer is gone, and its key opens nothing again.
        Assert.Equal(404, (await alice.SendAsync(HttpMethod.Get, $"os-volume-transfer/{id}")).Status);
        await bob.ExpectAsync(HttpMethod.Post, $"os-volume-transfer/{id}/accept", 404, new JsonObject { ["accept"] = new JsonObject { ["auth_key"] = authKey } });
    }

    [Fact]
    public async Task Transfers_refuse_bad_input_busy_volumes_and_a_recipient_over_quota()
    {
        var (alice, aliceProject, aliceToken) = await server.NewProjectUserAsync();
        var (bob, bobProject, _) = await server.NewProjectUserAsync();
        using var admin = await server.AdminAsync();
        var volumeId = (string)(await alice.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;

        await alice.ExpectAsync(HttpMethod.Post, "os-volume-transfer", 404, Transfer(Guid.NewGuid().ToString()));
        var notUuid = await alice.ExpectAsync(HttpMethod.Post, "os-volume-transfer", 400, Transfer("nope"));
        Assert.Equal("Invalid input for field/attribute volume_id. Value: nope. 'nope' is not a 'uuid'", (string?)notUuid["badRequest"]!["message"]);
        await alice.ExpectAsync(HttpMethod.Post, "os-volume-transfer", 400, new JsonObject { ["transfer"] = new JsonObject() });
        // no_snapshots is the new API's, from 3.55.
        await alice.ExpectAsync(HttpMethod.Post, "os-volume-transfer", 400, Transfer(volumeId, new() { ["no_snapshots"] = true }));
        using var old = server.Client(aliceToken, aliceProject, "3.54");
        await old.ExpectAsync(HttpMethod.Post, "volume-transfers", 404, Transfer(volumeId));

        var id = (string)(await alice.ExpectAsync(HttpMethod.Post, "volume-transfers", 202, Transfer(volumeId, new() { ["no_snapshots"] = true })))["transfer"]!["id"]!;
        var again = await alice.ExpectAsync(HttpMethod.Post, "volume-transfers", 400, Transfer(volumeId));
        Assert.Equal("Invalid volume: status must be available", (string?)again["badRequest"]!["message"]);
        var deleting = await alice.ExpectAsync(HttpMethod.Delete, $"volumes/{volumeId}", 400);
        Assert.Contains("awaiting a transfer", (string?)deleting["badRequest"]!["message"]);
        await alice.ExpectAsync(HttpMethod.Delete, $"volume-transfers/{id}", 202);
        Assert.Equal("available", (string?)(await alice.ExpectAsync(HttpMethod.Get, $"volumes/{volumeId}", 200))["volume"]!["status"]);
        var history = (await admin.ExpectAsync(HttpMethod.Get, "volume-transfers/detail?all_tenants=1", 200))["transfers"]!.AsArray();
        Assert.DoesNotContain(history, t => (string?)t!["id"] == id);

        // The recipient takes the volume only within its own quotas.
        await admin.ExpectAsync(HttpMethod.Put, $"os-quota-sets/{bobProject}", 200, new JsonObject { ["quota_set"] = new JsonObject { ["volumes"] = 0 } });
        var offer = (await alice.ExpectAsync(HttpMethod.Post, "os-volume-transfer", 202, Transfer(volumeId)))["transfer"]!;
        var over = await bob.ExpectAsync(HttpMethod.Post, $"os-volume-transfer/{(string)offer["id"]!}/accept", 413,
            new JsonObject { ["accept"] = new JsonObject { ["auth_key"] = (string)offer["auth_key"]! } });
        Assert.Equal("Maximum number of volumes allowed (0) exceeded for quota 'volumes'.", (string?)over["overLimit"]!["message"]);
        Assert.Equal("awaiting-transfer", (string?)(await alice.ExpectAsync(HttpMethod.Get, $"volumes/{volumeId}", 200))["volume"]!["status"]);
        await bob.ExpectAsync(HttpMethod.Post, $"os-volume-transfer/{(string)offer["id"]!}/accept", 400, new JsonObject { ["accept"] = new JsonObject() });
    }
}
