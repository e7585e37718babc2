using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Stratus.Dashboard.Tests.Infrastructure;
using Stratus.Testing;
using static Microsoft.Playwright.Assertions;

namespace Stratus.Dashboard.Tests;

/// <summary>
/// Horizon's Project → Volumes panels over each region's block storage service: volumes made, snapshotted, attached
/// to a running instance through the compute service and detached, deleted; the regions kept apart.
/// </summary>
[Collection(CloudCollection.Name)]
public sealed class VolumePanelTests(Cloud cloud)
{
    [Fact]
    public async Task A_volume_created_in_the_page_becomes_available_gets_a_snapshot_and_is_deleted()
    {
        var page = await cloud.AdminPageAsync("RegionOne");
        await Cloud.FollowAsync(page, "Volumes");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Volumes");

        // The form's own check, then the service's refusal (more than the project's quota), both in the banner.
        await Cloud.OpenFormAsync(page, "Create Volume");
        await page.FillAsync("#Name", "dashvol-bad");
        await page.FillAsync("#Gigabytes", "0");
        await page.ClickAsync("button:text('Create Volume')");
        await Expect(page.Locator(".alert-error")).ToHaveTextAsync("Size (GiB) must be a whole number, at least 1.");
        await page.FillAsync("#Gigabytes", "100000");
        await page.ClickAsync("button:text('Create Volume')");
        await Expect(page.Locator(".alert-error")).ToContainTextAsync("Unable to create volume \"dashvol-bad\": ");
        await Expect(page.Locator(".alert-error")).ToContainTextAsync("Requested volume or snapshot exceeds allowed gigabytes quota. Requested 100000G");
        await Expect(page.Locator("#Gigabytes")).ToHaveValueAsync("100000");
        Assert.DoesNotContain("dashvol-bad", await VolumeNamesAsync("RegionOne"));

        // Created, then watched on the page (no reload by the test) from creating to available.
        var row = await CreateVolumeAsync(page, "dashvol-1", 1);
        await Expect(row).ToContainTextAsync(new Regex(@"^\s*dashvol-1\s*1 GiB\s*available\s*__DEFAULT__\s*No"));
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Creating volume \"dashvol-1\".");
        var volume = await VolumeAsync("RegionOne", "dashvol-1");
        Assert.Equal("available", (string?)volume["status"]);
        Assert.Equal(1, (int?)volume["size"]);

        // A snapshot of it, on the Volume Snapshots page.
        await row.Locator("input[name=snapshot]").FillAsync("dashvol-1-snap");
        await row.Locator("button:text('Create Snapshot')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Creating volume snapshot \"dashvol-1-snap\" of volume \"dashvol-1\".");
        await Cloud.FollowAsync(page, "Volume Snapshots");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Volume Snapshots");
        var snapshot = Cloud.Row(page, "#snapshots", "dashvol-1-snap");
        await Expect(snapshot).ToContainTextAsync(new Regex(@"^\s*dashvol-1-snap\s*1 GiB\s*available\s*dashvol-1"));
        Assert.Equal((string?)volume["id"], (string?)(await SnapshotAsync("RegionOne", "dashvol-1-snap"))["volume_id"]);

        // A volume with a snapshot cannot go: Cinder's words in the banner.
        await Cloud.FollowAsync(page, "Volumes");
        await row.Locator("button:text('Delete')").ClickAsync();
        await Expect(page.Locator(".alert-error")).ToContainTextAsync("Unable to delete volume \"dashvol-1\": ");
        await Expect(page.Locator(".alert-error")).ToContainTextAsync("have snapshots");
        await Expect(row.Locator("[data-field=status]")).ToHaveTextAsync("available");

        await Cloud.FollowAsync(page, "Volume Snapshots");
        await snapshot.Locator("button:text('Delete')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Scheduled deletion of volume snapshot \"dashvol-1-snap\".");
        await Expect(snapshot).ToHaveCountAsync(0);
        await Expect(page.Locator(".alert-success")).ToBeVisibleAsync();

        await Cloud.FollowAsync(page, "Volumes");
        await row.Locator("button:text('Delete')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Scheduled deletion of volume \"dashvol-1\".");
        await Expect(row).ToHaveCountAsync(0);
        Assert.DoesNotContain("dashvol-1", await VolumeNamesAsync("RegionOne"));
        cloud.AssertNoPageErrors();
    }

    [Fact]
    public async Task A_volume_made_from_an_image_is_attached_to_a_running_instance_shows_in_use_and_is_detached()
    {
        const string region = "RegionTwo";
        var (image, flavor) = await cloud.ImageAndFlavorAsync(region);
        var compute = $"http://{cloud.Two}:8774/v2.1";
        // The guest prints its virtio disks' serials whenever they change (user data on a config drive).
        var server = (string)(await cloud.AdminApiAsync(HttpMethod.Post, compute + "/servers", new JsonObject
        {
            ["server"] = new JsonObject
            {
                ["name"] = "dashvol-vm",
                ["imageRef"] = image,
                ["flavorRef"] = flavor,
                ["networks"] = "none",
                ["config_drive"] = true,
                ["user_data"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(GuestScripts.DiskWatcher)),
            },
        }))!["server"]!["id"]!;
        try
        {
            var page = await cloud.AdminPageAsync(region);
            await Cloud.FollowAsync(page, "Volumes");
            await Cloud.OpenFormAsync(page, "Create Volume");
            await page.SelectOptionAsync("#Image", new SelectOptionValue { Label = "Image: dashapi-image" });
            var row = await CreateVolumeAsync(page, "dashvol-boot", 1);
            await Expect(row).ToContainTextAsync(new Regex(@"^\s*dashvol-boot\s*1 GiB\s*available\s*__DEFAULT__\s*Yes"));
            var volume = (string)(await VolumeAsync(region, "dashvol-boot"))["id"]!;
            Assert.Equal("true", (string?)(await VolumeAsync(region, "dashvol-boot"))["bootable"]);

            // Attach once the guest has booted and watches its disks.
            await ConsoleAsync(compute, server, c => GuestScripts.LastDisksLine(c).Length > 0);
            await page.ReloadAsync(new() { WaitUntil = WaitUntilState.Commit });
            await row.Locator("select[name=server]").SelectOptionAsync(new SelectOptionValue { Label = "dashvol-vm" });
            await row.Locator("button:text('Attach')").ClickAsync();
            await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Attaching volume \"dashvol-boot\".");
            await Expect(row.Locator("[data-field=status]")).ToHaveTextAsync("in-use", new() { Timeout = 120_000 });
            // Horizon's "INSTANCE on DEVICE"; the device only where block storage has it (compute does not send its mountpoint yet).
            await Expect(row.Locator("[data-field=attached]")).ToHaveTextAsync(new Regex(@"^dashvol-vm( on /dev/vd[b-z])?$"));
            await cloud.ScreenshotAsync(page, "volumes");
            // Nova has the attachment, and the guest sees the disk.
            var attachments = (await cloud.AdminApiAsync(HttpMethod.Get, $"{compute}/servers/{server}/os-volume_attachments"))!["volumeAttachments"]!.AsArray();
            Assert.Equal([volume], attachments.Select(a => (string?)a!["volumeId"]));
            Assert.Contains(volume[..20], GuestScripts.LastDisksLine(await ConsoleAsync(compute, server, c => GuestScripts.LastDisksLine(c).Contains(volume[..20], StringComparison.Ordinal))));
            // An attached volume is neither attached again nor deleted.
            await Expect(row.Locator("button:text('Attach')")).ToHaveCountAsync(0);
            await row.Locator("button:text('Delete')").ClickAsync();
            await Expect(page.Locator(".alert-error")).ToContainTextAsync("Unable to delete volume \"dashvol-boot\": ");
            await Expect(row.Locator("[data-field=status]")).ToHaveTextAsync("in-use");

            await row.Locator("button:text('Detach')").ClickAsync();
            await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Detaching volume \"dashvol-boot\" from instance \"dashvol-vm\".");
            await Expect(row.Locator("[data-field=status]")).ToHaveTextAsync("available", new() { Timeout = 120_000 });
            await Expect(row.Locator("[data-field=attached]")).ToHaveTextAsync("");
            Assert.Empty((await cloud.AdminApiAsync(HttpMethod.Get, $"{compute}/servers/{server}/os-volume_attachments"))!["volumeAttachments"]!.AsArray());
            Assert.DoesNotContain(volume[..20], GuestScripts.LastDisksLine(await ConsoleAsync(compute, server, c => !GuestScripts.LastDisksLine(c).Contains(volume[..20], StringComparison.Ordinal))));

            await row.Locator("button:text('Delete')").ClickAsync();
            await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Scheduled deletion of volume \"dashvol-boot\".");
            await Expect(row).ToHaveCountAsync(0);
            cloud.AssertNoPageErrors();
        }
        finally
        {
            await cloud.AdminApiAsync(HttpMethod.Delete, $"{compute}/servers/{server}");
        }
    }

    [Fact]
    public async Task A_volume_made_in_one_region_is_not_listed_in_the_other()
    {
        var page = await cloud.AdminPageAsync("RegionOne");
        await Cloud.FollowAsync(page, "Volumes");
        await CreateVolumeAsync(page, "dashvol-one", 1);
        await cloud.SwitchRegionAsync(page, "RegionTwo");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Volumes");
        await CreateVolumeAsync(page, "dashvol-two", 2);
        await Expect(page.Locator("#volumes")).Not.ToContainTextAsync("dashvol-one");

        await cloud.SwitchRegionAsync(page, "RegionOne");
        await Expect(Cloud.Row(page, "#volumes", "dashvol-one")).ToContainTextAsync("1 GiB");
        await Expect(page.Locator("#volumes")).Not.ToContainTextAsync("dashvol-two");

        // Each region's block storage agrees.
        Assert.Contains("dashvol-one", await VolumeNamesAsync("RegionOne"));
        Assert.DoesNotContain("dashvol-two", await VolumeNamesAsync("RegionOne"));
        Assert.Contains("dashvol-two", await VolumeNamesAsync("RegionTwo"));
        Assert.DoesNotContain("dashvol-one", await VolumeNamesAsync("RegionTwo"));
        cloud.AssertNoPageErrors();
    }

    [Fact]
    public async Task A_region_without_block_storage_shows_a_note_instead_of_the_volume_panels()
    {
        await using var bare = await cloud.BareRegionAsync();
        var page = await cloud.AdminPageAsync("RegionThree");
        foreach (var (link, heading) in new[] { ("Volumes", "Volumes"), ("Volume Snapshots", "Volume Snapshots") })
        {
            await Cloud.FollowAsync(page, link);
            await Expect(page.Locator("h1")).ToHaveTextAsync(heading);
            await Expect(page.Locator("#no-block-storage")).ToHaveTextAsync("RegionThree has no block storage service in the catalog: volumes and snapshots are not available in this region.");
            await Expect(page.Locator("main table, main form.form")).ToHaveCountAsync(0);
        }
        // A post there acts on nothing either.
        var response = await cloud.PostFormAsync(page, "project/volumes", "Create", new() { ["Name"] = "dashvol-nowhere", ["Gigabytes"] = "1" });
        Assert.Equal(200, response.Status);
        Assert.Contains("RegionThree has no block storage service", await response.TextAsync(), StringComparison.Ordinal);
        cloud.AssertNoPageErrors();
    }

    /// <summary>Creates a volume with the Create Volume form (opened, its source already chosen): its row, once available.</summary>
    static async Task<ILocator> CreateVolumeAsync(IPage page, string name, int size)
    {
        await Cloud.OpenFormAsync(page, "Create Volume");
        await page.FillAsync("#Name", name);
        await page.FillAsync("#Gigabytes", size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.ClickAsync("button:text('Create Volume')");
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync($"Creating volume \"{name}\".");
        var row = Cloud.Row(page, "#volumes", name);
        await Expect(row.Locator("[data-field=status]")).ToHaveTextAsync("available", new() { Timeout = 120_000 });
        return row;
    }

    string VolumeApi(string region) => $"http://{cloud.ControllerOf(region)}:8776/v3";

    async Task<JsonArray> ListAsync(string region, string collection)
    {
        var project = (string)(await cloud.AdminApiAsync(HttpMethod.Get, cloud.IdentityUrl + "/projects?name=admin"))!["projects"]![0]!["id"]!;
        return (await cloud.AdminApiAsync(HttpMethod.Get, $"{VolumeApi(region)}/{project}/{collection}/detail"))![collection]!.AsArray();
    }

    /// <summary>The names of the admin project's volumes, as the region's block storage lists them (deleted ones, or ones going, left out).</summary>
    async Task<List<string?>> VolumeNamesAsync(string region) =>
        (await ListAsync(region, "volumes")).Where(v => (string?)v!["status"] != "deleting").Select(v => (string?)v!["name"]).ToList();

    async Task<JsonObject> VolumeAsync(string region, string name) =>
        (await ListAsync(region, "volumes")).OfType<JsonObject>().Single(v => (string?)v["name"] == name);

    async Task<JsonObject> SnapshotAsync(string region, string name) =>
        (await ListAsync(region, "snapshots")).OfType<JsonObject>().Single(v => (string?)v["name"] == name);

    /// <summary>The server's console log once <paramref name="done"/> holds (or after two minutes: the caller's assertion then fails).</summary>
    async Task<string> ConsoleAsync(string compute, string server, Func<string, bool> done)
    {
        var log = "";
        for (var i = 0; i < 240 && !done(log); i++)
        {
            await Task.Delay(500);
            try
            {
                log = (string?)(await cloud.AdminApiAsync(HttpMethod.Post, $"{compute}/servers/{server}/action",
                    new JsonObject { ["os-getConsoleOutput"] = new JsonObject() }))?["output"] ?? "";
            }
            catch (InvalidOperationException)
            {
                // Not ACTIVE yet: no console to read.
            }
        }
        return log;
    }
}
