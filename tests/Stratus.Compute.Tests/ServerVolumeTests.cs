using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Stratus.Compute.Tests;

/// <summary>
/// Servers with volumes, over real HTTP: Nova's API and compute agent (fake driver) with the region's real
/// block storage (file backend), its attachments API and status machine deciding.
/// </summary>
public class ServerVolumeTests(VolumeRegionServer region) : IClassFixture<VolumeRegionServer>
{
    static async Task<JsonObject> OkAsync(HttpResponseMessage r, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"{(int)r.StatusCode}: {text}");
        return text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject();
    }

    async Task<(HttpClient Compute, HttpClient Volumes, HttpClient Image, string Project)> UserAsync(string microversion = "2.79")
    {
        var (compute, image, project) = await region.NewComputeUserAsync(microversion);
        return (compute, region.VolumeClient(compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single(), project), image, project);
    }

    static async Task<JsonObject> WaitVolumeAsync(HttpClient volumes, string id, string status)
    {
        JsonObject volume = [];
        for (var i = 0; i < 300; i++)
        {
            var r = await volumes.GetAsync($"volumes/{id}");
            if (r.StatusCode == HttpStatusCode.NotFound && status == "deleted") return [];
            volume = (await r.JsonAsync())["volume"]!.AsObject();
            if ((string?)volume["status"] == status) return volume;
            await Task.Delay(100);
        }
        Assert.Fail($"volume {id} did not become {status}: {volume.ToJsonString()}");
        return volume;
    }

    async Task<string> VolumeAsync(HttpClient volumes, int size = 1)
    {
        var created = await OkAsync(await volumes.PostAsJsonAsync("volumes", new JsonObject { ["volume"] = new JsonObject { ["size"] = size } }), HttpStatusCode.Accepted);
        var id = (string)created["volume"]!["id"]!;
        await WaitVolumeAsync(volumes, id, "available");
        return id;
    }

    async Task<string> ActiveServerAsync(HttpClient compute, HttpClient image, JsonObject? extra = null)
    {
        var server = new JsonObject { ["name"] = "vol-" + Guid.NewGuid().ToString("N")[..6], ["flavorRef"] = await region.NewFlavorAsync(), ["networks"] = "none" };
        if (extra is null) server["imageRef"] = await region.NewImageAsync(image);
        else foreach (var (k, v) in extra) server[k] = v?.DeepClone();
        var id = (string)(await OkAsync(await compute.PostAsJsonAsync("servers", new JsonObject { ["server"] = server }), HttpStatusCode.Accepted))["server"]!["id"]!;
        var shown = await RegionServer.WaitForServerAsync(compute, id, s => (string?)s["status"] is "ACTIVE" or "ERROR");
        Assert.True((string?)shown["status"] == "ACTIVE", shown.ToJsonString());
        return id;
    }

    [Fact]
    public async Task A_volume_is_attached_to_a_server_and_detached_as_nova_does_it_through_block_storage_attachments()
    {
        var (compute, volumes, image, _) = await UserAsync();
        var server = await ActiveServerAsync(compute, image);
        var volume = await VolumeAsync(volumes);

        var attached = await OkAsync(await compute.PostAsJsonAsync($"servers/{server}/os-volume_attachments", new JsonObject
        {
            ["volumeAttachment"] = new JsonObject { ["volumeId"] = volume, ["delete_on_termination"] = false },
        }));
        Assert.Equal(volume, (string?)attached["volumeAttachment"]!["volumeId"]);
        Assert.Equal("/dev/vdb", (string?)attached["volumeAttachment"]!["device"]);
        var inUse = await WaitVolumeAsync(volumes, volume, "in-use");
        Assert.Equal(server, (string?)inUse["attachments"]![0]!["server_id"]);
        // Nova tells block storage the device it promised the guest.
        Assert.Equal("/dev/vdb", (string?)inUse["attachments"]![0]!["device"]);
        var listed = (await OkAsync(await compute.GetAsync($"servers/{server}/os-volume_attachments")))["volumeAttachments"]!.AsArray();
        Assert.Equal(volume, (string?)Assert.Single(listed)!["volumeId"]);
        var shown = (await OkAsync(await compute.GetAsync($"servers/{server}")))["server"]!;
        Assert.Equal(volume, (string?)shown["os-extended-volumes:volumes_attached"]![0]!["id"]);

        // The same volume again, or to another server without multiattach: block storage's 400.
        var again = await compute.PostAsJsonAsync($"servers/{server}/os-volume_attachments", new JsonObject { ["volumeAttachment"] = new JsonObject { ["volumeId"] = volume } });
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        var other = await ActiveServerAsync(compute, image);
        var second = await compute.PostAsJsonAsync($"servers/{other}/os-volume_attachments", new JsonObject { ["volumeAttachment"] = new JsonObject { ["volumeId"] = volume } });
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.True((await second.JsonAsync()).ContainsKey("badRequest"));
        // An attached volume cannot be deleted.
        Assert.Equal(HttpStatusCode.BadRequest, (await volumes.DeleteAsync($"volumes/{volume}")).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await compute.DeleteAsync($"servers/{server}/os-volume_attachments/{volume}")).StatusCode);
        await WaitVolumeAsync(volumes, volume, "available");
        for (var i = 0; i < 100 && (await OkAsync(await compute.GetAsync($"servers/{server}/os-volume_attachments")))["volumeAttachments"]!.AsArray().Count > 0; i++)
            await Task.Delay(100);
        Assert.Empty((await OkAsync(await compute.GetAsync($"servers/{server}/os-volume_attachments")))["volumeAttachments"]!.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, (await compute.DeleteAsync($"servers/{server}/os-volume_attachments/{volume}")).StatusCode);
    }

    [Fact]
    public async Task Another_project_cannot_attach_a_volume_it_does_not_own_and_a_deleted_server_frees_its_volumes()
    {
        var (compute, volumes, image, _) = await UserAsync();
        var (otherCompute, _, otherImage, _) = await UserAsync();
        var volume = await VolumeAsync(volumes);
        var stranger = await ActiveServerAsync(otherCompute, otherImage);
        var refused = await otherCompute.PostAsJsonAsync($"servers/{stranger}/os-volume_attachments", new JsonObject { ["volumeAttachment"] = new JsonObject { ["volumeId"] = volume } });
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        await WaitVolumeAsync(volumes, volume, "available");

        var server = await ActiveServerAsync(compute, image);
        var doomed = await VolumeAsync(volumes);
        await OkAsync(await compute.PostAsJsonAsync($"servers/{server}/os-volume_attachments", new JsonObject { ["volumeAttachment"] = new JsonObject { ["volumeId"] = volume } }));
        await OkAsync(await compute.PostAsJsonAsync($"servers/{server}/os-volume_attachments", new JsonObject
        {
            ["volumeAttachment"] = new JsonObject { ["volumeId"] = doomed, ["delete_on_termination"] = true },
        }));
        await WaitVolumeAsync(volumes, doomed, "in-use");
        Assert.Equal(HttpStatusCode.NoContent, (await compute.DeleteAsync($"servers/{server}")).StatusCode);
        await WaitVolumeAsync(volumes, volume, "available");
        await WaitVolumeAsync(volumes, doomed, "deleted");
    }

    [Fact]
    public async Task A_server_boots_from_a_volume_made_from_an_image_which_goes_with_it()
    {
        var (compute, volumes, image, _) = await UserAsync();
        // A raw image block storage can convert (the fixture's usual image is four bytes called qcow2).
        var imageId = (string)(await image.CreateImageAsync(new JsonObject
        {
            ["name"] = "raw-" + Guid.NewGuid().ToString("N")[..6],
            ["disk_format"] = "raw",
            ["container_format"] = "bare",
        }))["id"]!;
        (await image.UploadAsync(imageId, new byte[65536])).EnsureSuccessStatusCode();
        var server = await ActiveServerAsync(compute, image, new JsonObject
        {
            ["block_device_mapping_v2"] = new JsonArray(new JsonObject
            {
                ["source_type"] = "image",
                ["destination_type"] = "volume",
                ["uuid"] = imageId,
                ["boot_index"] = 0,
                ["volume_size"] = 1,
                ["delete_on_termination"] = true,
            }),
        });
        var shown = (await OkAsync(await compute.GetAsync($"servers/{server}")))["server"]!;
        Assert.Equal("", (string?)shown["image"]);
        var volume = (string)shown["os-extended-volumes:volumes_attached"]![0]!["id"]!;
        var boot = await WaitVolumeAsync(volumes, volume, "in-use");
        Assert.Equal(imageId, (string?)boot["volume_image_metadata"]?["image_id"]);
        Assert.Equal("/dev/vda", (string?)(await OkAsync(await compute.GetAsync($"servers/{server}/os-volume_attachments")))["volumeAttachments"]![0]!["device"]);
        var detach = await compute.DeleteAsync($"servers/{server}/os-volume_attachments/{volume}");
        Assert.Equal(HttpStatusCode.BadRequest, detach.StatusCode);
        Assert.Equal("Cannot detach a root device volume", (string?)(await detach.JsonAsync())["badRequest"]!["message"]);

        Assert.Equal(HttpStatusCode.NoContent, (await compute.DeleteAsync($"servers/{server}")).StatusCode);
        await WaitVolumeAsync(volumes, volume, "deleted");
    }

    [Fact]
    public async Task Bad_block_device_mappings_are_refused_before_anything_is_made()
    {
        var (compute, volumes, image, _) = await UserAsync();
        var flavor = await region.NewFlavorAsync();
        async Task<string?> RefusedAsync(JsonObject bdm)
        {
            var r = await compute.PostAsJsonAsync("servers", new JsonObject
            {
                ["server"] = new JsonObject { ["name"] = "bad", ["flavorRef"] = flavor, ["networks"] = "none", ["block_device_mapping_v2"] = new JsonArray(bdm) },
            });
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            return (string?)(await r.JsonAsync())["badRequest"]!["message"];
        }
        Assert.Contains("failed to get volume", await RefusedAsync(new JsonObject { ["source_type"] = "volume", ["uuid"] = Guid.NewGuid().ToString(), ["boot_index"] = 0 }));
        Assert.Contains("non-zero size", await RefusedAsync(new JsonObject
        {
            ["source_type"] = "image",
            ["destination_type"] = "volume",
            ["uuid"] = await region.NewImageAsync(image),
            ["boot_index"] = 0,
        }));
        // An empty volume is not bootable.
        var empty = await VolumeAsync(volumes);
        Assert.Contains($"Block Device {empty} is not bootable.", await RefusedAsync(new JsonObject { ["source_type"] = "volume", ["uuid"] = empty, ["boot_index"] = 0 }));
        Assert.Equal(HttpStatusCode.Accepted, (await volumes.DeleteAsync($"volumes/{empty}")).StatusCode);
        await WaitVolumeAsync(volumes, empty, "deleted");
        Assert.Contains("Boot sequence", await RefusedAsync(new JsonObject { ["source_type"] = "blank", ["destination_type"] = "volume", ["volume_size"] = 1, ["boot_index"] = 1 }));
        Assert.Empty((await OkAsync(await volumes.GetAsync("volumes")))["volumes"]!.AsArray());
    }

    [Fact]
    public async Task Nova_s_os_volumes_proxy_shows_block_storage_s_volumes_up_to_2_35()
    {
        var (compute, volumes, _, _) = await UserAsync("2.35");
        var created = await OkAsync(await compute.PostAsJsonAsync("os-volumes", new JsonObject
        {
            ["volume"] = new JsonObject { ["size"] = 1, ["display_name"] = "through-nova" },
        }));
        var id = (string)created["volume"]!["id"]!;
        Assert.Equal("through-nova", (string?)created["volume"]!["displayName"]);
        await WaitVolumeAsync(volumes, id, "available");
        var listed = (await OkAsync(await compute.GetAsync("os-volumes/detail")))["volumes"]!.AsArray();
        var mine = listed.Single(v => (string?)v!["id"] == id)!;
        Assert.Equal("available", (string?)mine["status"]);
        Assert.Equal(1, (int)mine["size"]!);
        Assert.Equal("""[{}]""", mine["attachments"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.NotFound, (await compute.GetAsync($"os-volumes/{Guid.NewGuid()}")).StatusCode);
        var newer = region.ComputeClient(compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single(), "2.36");
        Assert.Equal(HttpStatusCode.NotFound, (await newer.GetAsync("os-volumes")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await compute.DeleteAsync($"os-volumes/{id}")).StatusCode);
        await WaitVolumeAsync(volumes, id, "deleted");
    }
}

/// <summary>Seed section 6: nova's <c>[cinder] os_region_name</c> naming a region without block storage.</summary>
public sealed class WrongCinderRegionServer : VolumeRegionServer
{
    protected override void Configure(TestNode node) => node.Configure<NovaOptions>(o => o with { CinderRegion = "RegionNowhere" });
}

public sealed class WrongCinderRegionTests(WrongCinderRegionServer region) : IClassFixture<WrongCinderRegionServer>
{
    [Fact]
    public async Task Volume_calls_fail_with_a_503_naming_cinder_os_region_name_and_nothing_changes()
    {
        var (compute, image, project) = await region.NewComputeUserAsync("2.79");
        var volumes = region.VolumeClient(compute.DefaultRequestHeaders.GetValues("X-Auth-Token").Single(), project);
        var volume = (string)(await (await volumes.PostAsJsonAsync("volumes", new JsonObject { ["volume"] = new JsonObject { ["size"] = 1 } })).JsonAsync())["volume"]!["id"]!;
        var server = (string)(await (await compute.PostAsJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject { ["name"] = "wrong-region", ["flavorRef"] = await region.NewFlavorAsync(), ["imageRef"] = await region.NewImageAsync(image), ["networks"] = "none" },
        })).JsonAsync())["server"]!["id"]!;
        await RegionServer.WaitForServerAsync(compute, server, s => (string?)s["status"] == "ACTIVE");

        var r = await compute.PostAsJsonAsync($"servers/{server}/os-volume_attachments", new JsonObject { ["volumeAttachment"] = new JsonObject { ["volumeId"] = volume } });
        var body = await r.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
        Assert.Contains("RegionNowhere", body);
        Assert.Contains("Check os_region_name in ", body);
        Assert.Contains("nova.conf [cinder]", body);
        // Block storage itself never heard of the attach.
        var shown = (await (await volumes.GetAsync($"volumes/{volume}")).JsonAsync())["volume"]!;
        Assert.Equal("available", (string?)shown["status"]);
        Assert.Empty(shown["attachments"]!.AsArray());
    }
}
