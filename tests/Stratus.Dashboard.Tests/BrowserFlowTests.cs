using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Stratus.Dashboard.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Stratus.Dashboard.Tests;

/// <summary>The seed's two regions through the shared dashboard, in a real Chromium, against a real <c>./stratus up</c>.</summary>
[Collection(CloudCollection.Name)]
public sealed class BrowserFlowTests(Cloud cloud)
{
    [Fact]
    public async Task Admin_boots_an_instance_in_RegionTwo_and_RegionOne_sees_none_of_it()
    {
        var page = await cloud.NewPageAsync();
        await cloud.LoginAsync(page);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Overview");
        await Expect(page.Locator("#region-select option")).ToHaveTextAsync(["RegionOne", "RegionTwo"]);
        await cloud.SwitchRegionAsync(page, "RegionTwo");

        // A flavor for the test image (admin page of RegionTwo).
        await Cloud.FollowAsync(page, "Flavors");
        await Cloud.OpenFormAsync(page, "Create Flavor");
        await page.FillAsync("#Name", "dash.tiny");
        await page.FillAsync("#Ram", "128");
        await page.FillAsync("#Vcpus", "1");
        await page.FillAsync("#Disk", "1");
        await page.ClickAsync("button:text('Create Flavor')");
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Created flavor dash.tiny.");
        await Expect(page.Locator("#flavors tbody th")).ToContainTextAsync(["dash.tiny"]);

        // Upload the test image with the progress bar.
        await Cloud.FollowAsync(page, "Images");
        await Cloud.OpenFormAsync(page, "Upload Image");
        await page.FillAsync("#Name", "dash-image");
        await page.SelectOptionAsync("#DiskFormat", "qcow2");
        await page.SetInputFilesAsync("#Upload", cloud.TestImage);
        await page.ClickAsync("button:text('Upload Image')");
        await Expect(page.Locator(".alert-success")).ToContainTextAsync("Uploaded image dash-image");
        var imageRow = page.Locator("#images tr", new() { Has = page.Locator("th:text-is('dash-image')") });
        await Expect(imageRow.Locator(".status")).ToHaveTextAsync("active");
        await Expect(imageRow.Locator("data")).ToHaveAttributeAsync("value", new FileInfo(cloud.TestImage).Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var imageId = await imageRow.GetAttributeAsync("data-image");
        await cloud.ScreenshotAsync(page, "images");

        // A key pair: its private key is shown once.
        await Cloud.FollowAsync(page, "Key Pairs");
        await Cloud.OpenFormAsync(page, "Create or Import Key Pair");
        await page.FillAsync("#Name", "dash-key");
        await page.ClickAsync("button:text('Create Key Pair')");
        await Expect(page.Locator("#private-key")).ToContainTextAsync("PRIVATE KEY");
        await page.ReloadAsync(new() { WaitUntil = WaitUntilState.Commit });
        await Expect(page.Locator("#keypairs tbody th")).ToHaveTextAsync(["dash-key"]);
        await Expect(page.Locator("#private-key")).ToHaveCountAsync(0);

        // Launch, and watch the status change from BUILD to ACTIVE without reloading.
        await Cloud.FollowAsync(page, "Instances");
        await page.ClickAsync("text=Launch Instance");
        await cloud.WaitForPageAsync(page, "project/instances/launch");
        await page.FillAsync("#Name", "dash-vm");
        await page.SelectOptionAsync("#Image", imageId!);
        await page.SelectOptionAsync("#Flavor", new SelectOptionValue { Label = "dash.tiny (1 VCPU, 128 MiB RAM, 1 GiB disk)" });
        await page.SelectOptionAsync("#KeyName", "dash-key");
        await page.ClickAsync("button:text('Launch Instance')");
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Launched instance dash-vm.");
        var row = page.Locator("#instances tbody tr", new() { Has = page.GetByRole(AriaRole.Link, new() { Name = "dash-vm", Exact = true }) });
        await Expect(row).ToContainTextAsync("dash-image");
        await Expect(row).ToContainTextAsync("dash.tiny");
        await Expect(row).ToContainTextAsync("dash-key");
        await Expect(row.Locator("[data-field=status]")).ToHaveTextAsync("ACTIVE", new() { Timeout = 180_000 });
        await Expect(row.Locator("[data-field=power_state]")).ToHaveTextAsync("Running", new() { Timeout = 30_000 });
        await cloud.ScreenshotAsync(page, "instances");

        // Its console log shows the guest booted.
        await row.Locator("th a").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("dash-vm");
        var console = page.Locator("#console-log");
        for (var i = 0; i < 120 && !(await console.TextContentAsync() ?? "").Contains("login: stratus test image ready", StringComparison.Ordinal); i++)
        {
            await Task.Delay(1000);
            await page.ClickAsync("button:text('Refresh')");
        }
        await Expect(console).ToContainTextAsync("login: stratus test image ready");
        await cloud.ScreenshotAsync(page, "console");

        // RegionTwo's compute services and hypervisor, as `openstack compute service list` shows them.
        await Cloud.FollowAsync(page, "System Information");
        var services = page.Locator("#compute-services tbody tr");
        await Expect(services.Filter(new() { HasText = "nova-compute" })).ToContainTextAsync(new Regex(@"nova-compute\s*compute1\s*nova\s*enabled\s*up"));
        await Expect(services.Filter(new() { HasText = "nova-conductor" })).ToContainTextAsync(new Regex(@"nova-conductor\s*controller\s*internal\s*enabled\s*up"));
        await Expect(services.Filter(new() { HasText = "nova-scheduler" })).ToContainTextAsync(new Regex(@"nova-scheduler\s*controller\s*internal\s*enabled\s*up"));
        await Expect(page.Locator("#catalog")).ToContainTextAsync($"http://{cloud.Two}:9292");
        await cloud.ScreenshotAsync(page, "services");
        await Cloud.FollowAsync(page, "Hypervisors");
        await Expect(page.Locator("#hypervisors tbody")).ToContainTextAsync("compute1");
        await Cloud.FollowAsync(page, "All Instances");
        await Expect(page.Locator("#all-instances tbody")).ToContainTextAsync("dash-vm");

        // RegionOne: none of RegionTwo's resources.
        await cloud.SwitchRegionAsync(page, "RegionOne");
        await Expect(page.Locator("#all-instances tbody tr")).ToHaveCountAsync(0);
        await Cloud.FollowAsync(page, "Instances");
        await Expect(page.Locator("main")).Not.ToContainTextAsync("dash-vm");
        await Expect(page.Locator("main .empty")).ToHaveTextAsync("No instances in RegionOne.");
        await Cloud.FollowAsync(page, "Images");
        await Expect(page.Locator("main")).Not.ToContainTextAsync("dash-image");
        await Cloud.FollowAsync(page, "Key Pairs");
        await Expect(page.Locator("main")).Not.ToContainTextAsync("dash-key");
        await Cloud.FollowAsync(page, "System Information");
        await Expect(page.Locator("#compute-services")).Not.ToContainTextAsync("compute1");
        await Expect(page.Locator("#catalog")).ToContainTextAsync($"http://{cloud.One}:9292");
        await Expect(page.Locator("#catalog")).Not.ToContainTextAsync(cloud.Two);

        // Back in RegionTwo: stop (the status follows live), then delete.
        await cloud.SwitchRegionAsync(page, "RegionTwo");
        await Cloud.FollowAsync(page, "Instances");
        page.Dialog += (_, d) => d.AcceptAsync();
        await row.Locator("button:text('Stop')").ClickAsync();
        await Expect(row.Locator("[data-field=status]")).ToHaveTextAsync("SHUTOFF", new() { Timeout = 90_000 });
        await row.Locator("button:text('Delete')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToContainTextAsync("Scheduled deletion of instance");
        await Expect(row).ToHaveCountAsync(0, new() { Timeout = 60_000 });
        lock (cloud.PageErrors) Assert.Empty(cloud.PageErrors);
    }

    [Fact]
    public async Task RegionTwos_web_root_redirects_to_the_shared_dashboard()
    {
        var page = await cloud.NewPageAsync();
        var response = await page.GotoAsync(cloud.RegionTwoRoot, new() { WaitUntil = WaitUntilState.Commit });
        // Followed to RegionOne's dashboard, which asks the browser to log in.
        Assert.StartsWith(cloud.DashboardUrl + "/auth/login", page.Url, StringComparison.Ordinal);
        Assert.Equal(200, response!.Status);
        var chain = new List<string>();
        for (var r = response.Request; r is not null; r = r.RedirectedFrom) chain.Insert(0, r.Url);
        // RegionTwo's root, then the URL its configuration names (seed section 7), then the login.
        Assert.Equal(cloud.RegionTwoRoot, chain[0]);
        Assert.Equal(cloud.DashboardUrl, chain[1]);
        await Expect(page.Locator("input[name=username]")).ToBeVisibleAsync();
        await cloud.ScreenshotAsync(page, "login");
        await cloud.LoginAsync(page);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Overview");
    }
}
