using System.Text.Json.Nodes;

namespace Stratus.BlockStorage.Tests;

/// <summary>Attaching as Nova does it: the attachments API (3.27, 3.44) and the legacy volume actions, with Cinder's status rules.</summary>
public sealed class AttachmentTests(BlockStorageServer server) : IClassFixture<BlockStorageServer>
{
    static readonly JsonObject Connector = new() { ["host"] = "compute1", ["ip"] = "127.0.0.1", ["initiator"] = "iqn.1993-08.org.debian:01:test", ["mountpoint"] = "/dev/vdb" };

    [Fact]
    public async Task Attachment_reserves_connects_completes_and_detaches()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var id = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        var server1 = Guid.NewGuid().ToString();

        var attachment = (await member.ExpectAsync(HttpMethod.Post, "attachments", 200,
            new JsonObject { ["attachment"] = new JsonObject { ["volume_uuid"] = id, ["instance_uuid"] = server1 } }))["attachment"]!;
        var attachmentId = (string)attachment["id"]!;
        Assert.Equal("reserved", (string?)attachment["status"]);
        Assert.Equal("reserved", (string?)(await member.WaitVolumeAsync(id, "reserved"))["status"]);

        // A second server cannot take a volume that is not multiattach.
        var refused = await member.ExpectAsync(HttpMethod.Post, "attachments", 400,
            new JsonObject { ["attachment"] = new JsonObject { ["volume_uuid"] = id, ["instance_uuid"] = Guid.NewGuid().ToString() } });
        Assert.StartsWith($"Invalid volume: Volume {id} status must be available", (string?)refused["badRequest"]!["message"]);

        var updated = (await member.ExpectAsync(HttpMethod.Put, $"attachments/{attachmentId}", 200,
            new JsonObject { ["attachment"] = new JsonObject { ["connector"] = Connector.DeepClone() } }))["attachment"]!;
        var info = updated["connection_info"]!;
        Assert.Equal("local", (string?)info["driver_volume_type"]);
        var path = (string)info["data"]!["device_path"]!;
        Assert.Equal(Path.Combine(server.Options.Backends[0].VolumesDir, "volume-" + id), path);
        Assert.True(File.Exists(path));
        Assert.Equal("rw", (string?)info["data"]!["access_mode"]);
        Assert.Equal(attachmentId, (string?)info["attachment_id"]);
        Assert.Equal("attaching", (string?)updated["status"]);

        await member.ExpectAsync(HttpMethod.Post, $"attachments/{attachmentId}/action", 204, VolumeCalls.Action("os-complete", null));
        var volume = await member.WaitVolumeAsync(id, "in-use");
        var attached = volume["attachments"]!.AsArray().Single()!;
        Assert.Equal(server1, (string?)attached["server_id"]);
        Assert.Equal(attachmentId, (string?)attached["attachment_id"]);
        Assert.Equal("/dev/vdb", (string?)attached["device"]);
        Assert.Equal("attached", (string?)(await member.ExpectAsync(HttpMethod.Get, $"attachments/{attachmentId}", 200))["attachment"]!["status"]);

        // An attached volume can be neither deleted nor force-deleted.
        var notDeleted = await member.ExpectAsync(HttpMethod.Delete, $"volumes/{id}", 400);
        Assert.Contains("must not be migrating, attached", (string?)notDeleted["badRequest"]!["message"]);
        using var admin = await server.AdminAsync();
        await admin.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 400, VolumeCalls.Action("os-force_delete"));
        Assert.Single((await member.ExpectAsync(HttpMethod.Get, $"attachments?volume_id={id}", 200))["attachments"]!.AsArray());

        var remaining = await member.ExpectAsync(HttpMethod.Delete, $"attachments/{attachmentId}", 200);
        Assert.Empty(remaining["attachments"]!.AsArray());
        volume = await member.WaitVolumeAsync(id, "available");
        Assert.Empty(volume["attachments"]!.AsArray());
        Assert.Equal(404, (await member.SendAsync(HttpMethod.Get, $"attachments/{attachmentId}")).Status);
    }

    [Fact]
    public async Task Legacy_actions_walk_the_status_machine()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var id = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        async Task Act(string name, JsonObject? args, int status = 202) =>
            await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", status, VolumeCalls.Action(name, args));
        async Task<string?> Status() => (string?)(await member.ExpectAsync(HttpMethod.Get, $"volumes/{id}", 200))["volume"]!["status"];

        await Act("os-begin_detaching", null, 400);
        await Act("os-reserve", null);
        Assert.Equal("attaching", await Status());
        await Act("os-reserve", null, 400);
        await Act("os-unreserve", null);
        Assert.Equal("available", await Status());
        await Act("os-reserve", null);
        var info = await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 200,
            VolumeCalls.Action("os-initialize_connection", new JsonObject { ["connector"] = Connector.DeepClone() }));
        Assert.Equal("local", (string?)info["connection_info"]!["driver_volume_type"]);
        await Act("os-attach", new JsonObject { ["instance_uuid"] = Guid.NewGuid().ToString(), ["mountpoint"] = "/dev/vdc" });
        Assert.Equal("in-use", await Status());
        await Act("os-begin_detaching", null);
        Assert.Equal("detaching", await Status());
        await Act("os-roll_detaching", null);
        Assert.Equal("in-use", await Status());
        var refused = await member.ExpectAsync(HttpMethod.Delete, $"volumes/{id}", 400);
        Assert.Equal(400, (int)refused["badRequest"]!["code"]!);
        await Act("os-begin_detaching", null);
        await Act("os-detach", new JsonObject());
        await Act("os-terminate_connection", new JsonObject { ["connector"] = Connector.DeepClone() });
        Assert.Equal("available", await Status());
        await Act("os-no_such_action", null, 400);
    }

    [Fact]
    public async Task Admin_actions_reset_status_and_flags()
    {
        var (member, _, _) = await server.NewProjectUserAsync();
        var id = (string)(await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }))["id"]!;
        var denied = await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 403, VolumeCalls.Action("os-reset_status", new JsonObject { ["status"] = "error" }));
        Assert.Equal("Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be performed.", (string?)denied["forbidden"]!["message"]);
        using var admin = await server.AdminAsync();
        await admin.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 400, VolumeCalls.Action("os-reset_status", new JsonObject { ["status"] = "bogus" }));
        await admin.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 202, VolumeCalls.Action("os-reset_status", new JsonObject { ["status"] = "error" }));
        Assert.Equal("error", (string?)(await member.ExpectAsync(HttpMethod.Get, $"volumes/{id}", 200))["volume"]!["status"]);
        await admin.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 202, VolumeCalls.Action("os-reset_status", new JsonObject { ["status"] = "available" }));

        await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 200, VolumeCalls.Action("os-set_bootable", new JsonObject { ["bootable"] = true }));
        await member.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 202, VolumeCalls.Action("os-update_readonly_flag", new JsonObject { ["readonly"] = true }));
        var volume = (await member.ExpectAsync(HttpMethod.Get, $"volumes/{id}", 200))["volume"]!;
        Assert.Equal("true", (string?)volume["bootable"]);
        Assert.Equal("True", (string?)volume["metadata"]!["readonly"]);

        await admin.ExpectAsync(HttpMethod.Post, $"volumes/{id}/action", 202, VolumeCalls.Action("os-force_delete"));
        await member.WaitGoneAsync($"volumes/{id}");
    }
}
