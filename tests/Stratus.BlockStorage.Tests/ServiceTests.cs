using System.Text.Json.Nodes;

namespace Stratus.BlockStorage.Tests;

/// <summary><c>volume service list</c> from the services' heartbeats, and the scheduler sending work only to an enabled, matching backend.</summary>
public sealed class ServiceTests(BlockStorageServer server) : IClassFixture<BlockStorageServer>
{
    [Fact]
    public async Task The_scheduler_and_each_backend_report_up_and_the_scheduler_skips_a_disabled_one()
    {
        using var admin = await server.AdminAsync();
        var services = (await admin.ExpectAsync(HttpMethod.Get, "os-services", 200))["services"]!.AsArray();
        var host = server.Options.Host;
        var scheduler = services.Single(s => (string?)s!["binary"] == "cinder-scheduler")!;
        Assert.Equal(host, (string?)scheduler["host"]);
        var volume = services.Single(s => (string?)s!["binary"] == "cinder-volume")!;
        Assert.Equal(host + "@file", (string?)volume["host"]);
        Assert.Equal(("nova", "enabled", "up"), ((string?)volume["zone"], (string?)volume["status"], (string?)volume["state"]));
        Assert.Equal("up", (string?)volume["backend_state"]);
        var zones = (await admin.ExpectAsync(HttpMethod.Get, "os-availability-zone", 200))["availabilityZoneInfo"]!.AsArray();
        Assert.True((bool)zones.Single(z => (string?)z!["zoneName"] == "nova")!["zoneState"]!["available"]!);

        var (member, _, _) = await server.NewProjectUserAsync();
        Assert.Equal(403, (await member.SendAsync(HttpMethod.Get, "os-services")).Status);

        await admin.ExpectAsync(HttpMethod.Put, "os-services/disable", 200, new JsonObject { ["host"] = host + "@file", ["binary"] = "cinder-volume" });
        try
        {
            Assert.Equal("disabled", (string?)(await admin.ExpectAsync(HttpMethod.Get, "os-services?binary=cinder-volume", 200))["services"]![0]!["status"]);
            var failed = await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 }, until: "error");
            var message = (await member.ExpectAsync(HttpMethod.Get, $"messages?resource_uuid={(string)failed["id"]!}", 200))["messages"]![0]!;
            Assert.Equal("schedule allocate volume:Could not find any available weighted backend.", (string?)message["user_message"]);
            Assert.Null(failed["os-vol-host-attr:host"]);
        }
        finally
        {
            await admin.ExpectAsync(HttpMethod.Put, "os-services/enable", 200, new JsonObject { ["host"] = host + "@file", ["binary"] = "cinder-volume" });
        }
        var placed = await member.CreateVolumeAsync(new JsonObject { ["size"] = 1 });
        var shown = (await admin.ExpectAsync(HttpMethod.Get, $"volumes/{(string)placed["id"]!}", 200))["volume"]!;
        Assert.Equal(host + "@file#file", (string?)shown["os-vol-host-attr:host"]);
    }

    [Fact]
    public async Task A_type_for_a_backend_that_no_service_has_fails_to_schedule()
    {
        using var admin = await server.AdminAsync();
        var name = "nowhere-" + Guid.NewGuid().ToString("N")[..6];
        await admin.ExpectAsync(HttpMethod.Post, "types", 200, new JsonObject
        {
            ["volume_type"] = new JsonObject { ["name"] = name, ["extra_specs"] = new JsonObject { ["volume_backend_name"] = "lvm-somewhere" } },
        });
        var (member, _, _) = await server.NewProjectUserAsync();
        var failed = await member.CreateVolumeAsync(new JsonObject { ["size"] = 1, ["volume_type"] = name }, until: "error");
        var message = (await member.ExpectAsync(HttpMethod.Get, "messages", 200))["messages"]!.AsArray().Single()!;
        Assert.Equal((string)failed["id"]!, (string?)message["resource_uuid"]);
        Assert.Equal("VOLUME_VOLUME_001_003", (string?)message["event_id"]);
        // An errored volume can be deleted; nothing was made for it.
        await member.ExpectAsync(HttpMethod.Delete, $"volumes/{(string)failed["id"]!}", 202);
        await member.WaitGoneAsync($"volumes/{(string)failed["id"]!}");
    }
}
