using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Stratus.Dashboard.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Stratus.Dashboard.Tests;

/// <summary>
/// Horizon's Project → Network panels over each region's network service: networks and subnets, routers,
/// security groups, floating IPs, instances on a chosen network, and the regions kept apart.
/// </summary>
[Collection(CloudCollection.Name)]
public sealed partial class NetworkPanelTests(Cloud cloud)
{
    [Fact]
    public async Task A_network_made_with_a_subnet_is_listed_and_its_detail_shows_the_subnet_and_the_DHCP_port()
    {
        await cloud.ExternalNetworkAsync("RegionOne");
        var page = await cloud.AdminPageAsync("RegionOne");
        await CreateNetworkAsync(page, "dash-net-1", "dash-subnet-1", "10.91.1.0/24");
        var row = Cloud.Row(page, "#networks", "dash-net-1");
        await Expect(row).ToContainTextAsync(new Regex(@"dash-net-1\s*dash-subnet-1 10\.91\.1\.0/24\s*No\s*No\s*ACTIVE\s*UP"));
        // The admin's external network is listed too, as external.
        await Expect(Cloud.Row(page, "#networks", "public")).ToContainTextAsync(new Regex(@"public-subnet 203\.0\.113\.0/24\s*No\s*Yes"));
        await cloud.ScreenshotAsync(page, "networks");

        await row.Locator("th a").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("dash-net-1");
        await Expect(page.Locator("#network-overview")).ToContainTextAsync(new Regex(@"Status\s*ACTIVE\s*Admin State\s*UP\s*Shared\s*No\s*External Network\s*No"));
        await Expect(Cloud.Row(page, "#subnets", "dash-subnet-1")).ToContainTextAsync(new Regex(@"10\.91\.1\.0/24\s*IPv4\s*10\.91\.1\.1\s*Enabled\s*10\.91\.1\.2 - 10\.91\.1\.254"));
        // The DHCP agent's port on the subnet (made by the agent, so it may take a moment).
        for (var i = 0; i < 60 && !(await page.Locator("#ports").CountAsync() > 0 && (await page.Locator("#ports").InnerTextAsync()).Contains("network:dhcp", StringComparison.Ordinal)); i++)
        {
            await Task.Delay(1000);
            await page.ReloadAsync(new() { WaitUntil = WaitUntilState.Commit });
        }
        await Expect(page.Locator("#ports")).ToContainTextAsync(new Regex(@"10\.91\.1\.\d+\s*fa:16:3e:[0-9a-f:]+\s*network:dhcp"));

        // A second subnet overlapping the first: Neutron's refusal in the banner, the form kept.
        await Cloud.OpenFormAsync(page, "Create Subnet");
        await page.FillAsync("#Subnet_Name", "dash-subnet-overlap");
        await page.FillAsync("#Subnet_Cidr", "10.91.1.128/25");
        await page.ClickAsync("button:text('Create Subnet')");
        await Expect(page.Locator(".alert-error")).ToContainTextAsync("Failed to create subnet \"10.91.1.128/25\": Invalid input for operation: Requested subnet with cidr: 10.91.1.128/25");
        await Expect(page.Locator(".alert-error")).ToContainTextAsync("overlaps with another subnet");
        await Expect(page.Locator("#Subnet_Cidr")).ToHaveValueAsync("10.91.1.128/25");

        // Another one without DHCP and gateway, then deleted.
        await page.FillAsync("#Subnet_Name", "dash-subnet-2");
        await page.FillAsync("#Subnet_Cidr", "10.91.2.0/24");
        await page.CheckAsync("#Subnet_NoGateway");
        await page.UncheckAsync("#Subnet_EnableDhcp");
        await page.ClickAsync("button:text('Create Subnet')");
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Created subnet \"dash-subnet-2\".");
        await Expect(Cloud.Row(page, "#subnets", "dash-subnet-2")).ToContainTextAsync(new Regex(@"10\.91\.2\.0/24\s*IPv4\s*Disabled"));
        await Expect(page.Locator("#subnets tbody tr")).ToHaveCountAsync(2);
        await Cloud.Row(page, "#subnets", "dash-subnet-2").Locator("button:text('Delete')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Deleted subnet \"dash-subnet-2\".");
        await Expect(page.Locator("#subnets tbody th")).ToHaveTextAsync(["dash-subnet-1"]);

        // A network whose subnet Neutron refuses is not left behind (Horizon's workflow deletes it again).
        await Cloud.FollowAsync(page, "Networks");
        await Cloud.OpenFormAsync(page, "Create Network");
        await page.FillAsync("#Name", "dash-net-bad");
        await page.FillAsync("#Subnet_Cidr", "10.91.3.0/33");
        await page.ClickAsync("button:text('Create Network')");
        await Expect(page.Locator(".alert-error")).ToContainTextAsync("Failed to create subnet \"10.91.3.0/33\" for network \"dash-net-bad\": Invalid input for cidr");
        await Expect(page.Locator("#networks")).Not.ToContainTextAsync("dash-net-bad");
        Assert.DoesNotContain("dash-net-bad", await NetworkNamesAsync("RegionOne"));

        await Cloud.Row(page, "#networks", "dash-net-1").Locator("button:text('Delete')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Deleted network \"dash-net-1\".");
        await Expect(page.Locator("#networks")).Not.ToContainTextAsync("dash-net-1");
        cloud.AssertNoPageErrors();
    }

    [Fact]
    public async Task A_router_gets_an_external_gateway_and_an_interface_on_a_subnet()
    {
        await cloud.ExternalNetworkAsync("RegionOne");
        var page = await cloud.AdminPageAsync("RegionOne");
        await CreateNetworkAsync(page, "dash-rnet", "dash-rsubnet", "10.91.10.0/24");

        await Cloud.FollowAsync(page, "Routers");
        await Cloud.OpenFormAsync(page, "Create Router");
        await page.FillAsync("#Name", "dash-router");
        await page.SelectOptionAsync("#ExternalNetwork", new SelectOptionValue { Label = "public" });
        await page.ClickAsync("button:text('Create Router')");
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Created router \"dash-router\".");
        await Expect(Cloud.Row(page, "#routers", "dash-router")).ToContainTextAsync(new Regex(@"dash-router\s*\w+\s*public\s*UP"));

        await Cloud.Row(page, "#routers", "dash-router").Locator("th a").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("dash-router");
        await Expect(page.Locator("#gateway")).ToContainTextAsync(new Regex(@"^public \(203\.0\.113\.\d+\)$"));
        await Expect(page.Locator("#interfaces tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#interfaces tbody tr")).ToContainTextAsync("External Gateway");

        // A router with only its gateway offers the form open.
        await Expect(page.Locator("#Subnet")).ToBeVisibleAsync();
        await page.SelectOptionAsync("#Subnet", new SelectOptionValue { Label = "dash-rnet: 10.91.10.0/24 (dash-rsubnet)" });
        await page.ClickAsync("button:text('Add Interface')");
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Interface added.");
        var inside = Cloud.Row(page, "#interfaces", "10.91.10.1");
        await Expect(inside).ToContainTextAsync(new Regex(@"10\.91\.10\.1\s*Internal Interface"));

        // The same subnet again: the router's refusal, as Neutron words it.
        await Cloud.OpenFormAsync(page, "Add Interface");
        await page.SelectOptionAsync("#Subnet", new SelectOptionValue { Label = "dash-rnet: 10.91.10.0/24 (dash-rsubnet)" });
        await page.ClickAsync("button:text('Add Interface')");
        await Expect(page.Locator(".alert-error")).ToContainTextAsync("Failed to add interface: Bad router request: Router already has a port on subnet");

        // The network is in use while the router has a port on it.
        await Cloud.FollowAsync(page, "Networks");
        await Cloud.Row(page, "#networks", "dash-rnet").Locator("button:text('Delete')").ClickAsync();
        await Expect(page.Locator(".alert-error")).ToContainTextAsync("Unable to delete network \"dash-rnet\": Unable to complete operation on network");
        await Expect(page.Locator(".alert-error")).ToContainTextAsync("There are one or more ports still in use on the network.");

        await Cloud.FollowAsync(page, "Routers");
        await Cloud.Row(page, "#routers", "dash-router").Locator("th a").ClickAsync();
        await Cloud.Row(page, "#interfaces", "10.91.10.1").Locator("button:text('Remove')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Removed interface 10.91.10.1.");
        await Expect(page.Locator("#interfaces tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#interfaces")).Not.ToContainTextAsync("Internal Interface");

        await page.ClickAsync("button:text('Delete Router')");
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Deleted router \"dash-router\".");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Routers");
        await Expect(Cloud.Row(page, "#routers", "dash-router")).ToHaveCountAsync(0);
        await Cloud.FollowAsync(page, "Networks");
        await Cloud.Row(page, "#networks", "dash-rnet").Locator("button:text('Delete')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Deleted network \"dash-rnet\".");
        cloud.AssertNoPageErrors();
    }

    [Fact]
    public async Task A_security_group_gets_rules_by_CIDR_and_by_group_and_loses_them()
    {
        var page = await cloud.AdminPageAsync("RegionOne");
        await Cloud.FollowAsync(page, "Security Groups");
        await Cloud.OpenFormAsync(page, "Create Security Group");
        await page.FillAsync("#Name", "dash-sg");
        await page.FillAsync("#Description", "web servers");
        await page.ClickAsync("button:text('Create Security Group')");
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Created security group \"dash-sg\".");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Manage Security Group Rules: dash-sg");
        // Neutron's defaults for a new group: egress anywhere, IPv4 and IPv6.
        await Expect(page.Locator("#rules tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#rules tbody")).ToContainTextAsync(new Regex(@"Egress\s*IPv4\s*Any\s*Any"));
        await Expect(page.Locator("#rules tbody")).ToContainTextAsync(new Regex(@"Egress\s*IPv6\s*Any\s*Any"));

        await Cloud.OpenFormAsync(page, "Add Rule");
        await page.SelectOptionAsync("#Protocol", "tcp");
        await page.FillAsync("#PortMin", "22");
        await page.FillAsync("#Cidr", "10.0.0.0/8");
        await page.FillAsync("#Description", "ssh");
        await page.ClickAsync("button:text('Add Rule')");
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Added rule.");
        var ssh = page.Locator("#rules tbody tr", new() { HasText = "ssh" });
        await Expect(ssh).ToContainTextAsync(new Regex(@"Ingress\s*IPv4\s*TCP\s*22\s*10\.0\.0\.0/8\s*ssh"));

        await Cloud.OpenFormAsync(page, "Add Rule");
        await page.SelectOptionAsync("#Protocol", "udp");
        await page.FillAsync("#PortMin", "8000");
        await page.FillAsync("#PortMax", "8080");
        await page.SelectOptionAsync("#RemoteGroup", new SelectOptionValue { Label = "Security Group: dash-sg" });
        await page.FillAsync("#Description", "peers");
        await page.ClickAsync("button:text('Add Rule')");
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Added rule.");
        await Expect(page.Locator("#rules tbody tr", new() { HasText = "peers" })).ToContainTextAsync(new Regex(@"Ingress\s*IPv4\s*UDP\s*8000 - 8080\s*dash-sg\s*peers"));

        // The first rule again: Neutron's conflict in the banner.
        await Cloud.OpenFormAsync(page, "Add Rule");
        await page.SelectOptionAsync("#Protocol", "tcp");
        await page.FillAsync("#PortMin", "22");
        await page.FillAsync("#Cidr", "10.0.0.0/8");
        await page.ClickAsync("button:text('Add Rule')");
        await Expect(page.Locator(".alert-error")).ToContainTextAsync("Unable to add rule to security group: Security group rule already exists. Rule id is");
        await Expect(page.Locator("#rules tbody tr")).ToHaveCountAsync(4);

        await ssh.Locator("button:text('Delete Rule')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToContainTextAsync("Deleted rule");
        await Expect(page.Locator("#rules tbody tr")).ToHaveCountAsync(3);
        await Expect(page.Locator("#rules")).Not.ToContainTextAsync("ssh");

        await Cloud.FollowAsync(page, "Security Groups");
        var group = Cloud.Row(page, "#security-groups", "dash-sg");
        await Expect(group).ToContainTextAsync(new Regex(@"web servers\s*3"));
        // Every project has its default group.
        await Expect(Cloud.Row(page, "#security-groups", "default")).ToBeVisibleAsync();
        await group.Locator("button:text('Delete')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Deleted security group \"dash-sg\".");
        await Expect(page.Locator("#security-groups")).Not.ToContainTextAsync("dash-sg");
        cloud.AssertNoPageErrors();
    }

    [Fact]
    public async Task A_floating_ip_is_allocated_from_the_external_network_and_released()
    {
        await cloud.ExternalNetworkAsync("RegionOne");
        var page = await cloud.AdminPageAsync("RegionOne");
        await Cloud.FollowAsync(page, "Floating IPs");
        var address = await AllocateAsync(page, "203.0.113.");
        var row = Cloud.Row(page, "#floating-ips", address);
        await Expect(row).ToContainTextAsync(new Regex(@"-\s*public\s*DOWN"));
        // Nothing chosen to associate with: the form says so.
        await row.Locator("button:text('Associate')").ClickAsync();
        await Expect(page.Locator(".alert-error")).ToHaveTextAsync("Choose a port to be associated.");
        Assert.Contains(address, (await cloud.AdminApiAsync(HttpMethod.Get, $"http://{cloud.One}:9696/v2.0/floatingips"))!["floatingips"]!.AsArray()
            .Select(f => (string?)f!["floating_ip_address"]));

        await row.Locator("button:text('Release')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync($"Released Floating IP {address}.");
        await Expect(Cloud.Row(page, "#floating-ips", address)).ToHaveCountAsync(0);
        cloud.AssertNoPageErrors();
    }

    [Fact]
    public async Task An_instance_launched_on_a_chosen_network_shows_its_address_and_gets_a_floating_ip_once_a_router_reaches_it()
    {
        const string region = "RegionTwo";
        await cloud.ExternalNetworkAsync(region);
        var (image, flavor) = await cloud.ImageAndFlavorAsync(region);
        var page = await cloud.AdminPageAsync(region);
        await CreateNetworkAsync(page, "dashnet-net", "dashnet-subnet", "10.91.20.0/24");

        await Cloud.FollowAsync(page, "Instances");
        await page.ClickAsync("text=Launch Instance");
        await cloud.WaitForPageAsync(page, "project/instances/launch");
        await page.FillAsync("#Name", "dashnet-vm");
        await page.SelectOptionAsync("#Image", image);
        await page.SelectOptionAsync("#Flavor", flavor);
        // The external network is no place for an instance; the project's network is offered.
        await Expect(page.Locator("#networks")).Not.ToContainTextAsync("public");
        await page.Locator("#networks label", new() { HasText = "dashnet-net" }).Locator("input").CheckAsync();
        await page.ClickAsync("button:text('Launch Instance')");
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Launched instance dashnet-vm.");
        var row = page.Locator("#instances tbody tr", new() { Has = page.GetByRole(AriaRole.Link, new() { Name = "dashnet-vm", Exact = true }) });
        await Expect(row.Locator("[data-field=status]")).ToHaveTextAsync("ACTIVE", new() { Timeout = 180_000 });
        var addresses = row.Locator("[data-field=addresses]");
        await Expect(addresses).ToContainTextAsync(new Regex(@"dashnet-net\s*10\.91\.20\.\d+"), new() { Timeout = 30_000 });
        var fixedIp = FixedIp().Match(await addresses.InnerTextAsync()).Value;
        // The address is the server's port on the chosen network, as the network service has it.
        Assert.Contains(fixedIp, (await cloud.AdminApiAsync(HttpMethod.Get, $"http://{cloud.Two}:9696/v2.0/ports?device_owner=compute:nova"))!["ports"]!.AsArray()
            .SelectMany(p => p!["fixed_ips"]!.AsArray()).Select(a => (string?)a!["ip_address"]));
        await row.Locator("th a").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("dashnet-vm");
        await Expect(page.Locator("#addresses")).ToHaveTextAsync(new Regex($@"^\s*dashnet-net\s*{Regex.Escape(fixedIp)}\s*$"));

        // A floating IP: not reachable from the instance's subnet until a router joins them, as Neutron says.
        await Cloud.FollowAsync(page, "Floating IPs");
        var address = await AllocateAsync(page, "198.51.100.");
        var target = $"dashnet-vm: {fixedIp}";
        await Cloud.Row(page, "#floating-ips", address).Locator("select[name=target]").SelectOptionAsync(new SelectOptionValue { Label = target });
        await Cloud.Row(page, "#floating-ips", address).Locator("button:text('Associate')").ClickAsync();
        await Expect(page.Locator(".alert-error")).ToContainTextAsync($"Unable to associate Floating IP {address}: External network");
        await Expect(page.Locator(".alert-error")).ToContainTextAsync("is not reachable from subnet");

        await Cloud.FollowAsync(page, "Routers");
        await Cloud.OpenFormAsync(page, "Create Router");
        await page.FillAsync("#Name", "dashnet-router");
        await page.SelectOptionAsync("#ExternalNetwork", new SelectOptionValue { Label = "public" });
        await page.ClickAsync("button:text('Create Router')");
        await Cloud.Row(page, "#routers", "dashnet-router").Locator("th a").ClickAsync();
        await page.SelectOptionAsync("#Subnet", new SelectOptionValue { Label = "dashnet-net: 10.91.20.0/24 (dashnet-subnet)" });
        await page.ClickAsync("button:text('Add Interface')");
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync("Interface added.");

        await Cloud.FollowAsync(page, "Floating IPs");
        await Cloud.Row(page, "#floating-ips", address).Locator("select[name=target]").SelectOptionAsync(new SelectOptionValue { Label = target });
        await Cloud.Row(page, "#floating-ips", address).Locator("button:text('Associate')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync($"Associated Floating IP {address} with {fixedIp}.");
        await Expect(Cloud.Row(page, "#floating-ips", address).Locator("[data-field=mapped]")).ToHaveTextAsync(target);
        await cloud.ScreenshotAsync(page, "floating-ips");

        // The instance shows it beside its fixed address.
        await Cloud.FollowAsync(page, "Instances");
        await Expect(addresses).ToContainTextAsync(new Regex($@"dashnet-net\s*{Regex.Escape(fixedIp)}\s*dashnet-net\s*{Regex.Escape(address)} \(floating\)"));

        await Cloud.FollowAsync(page, "Floating IPs");
        await Cloud.Row(page, "#floating-ips", address).Locator("button:text('Disassociate')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync($"Disassociated Floating IP {address}.");
        await Expect(Cloud.Row(page, "#floating-ips", address).Locator("[data-field=mapped]")).ToHaveTextAsync("-");
        await Cloud.Row(page, "#floating-ips", address).Locator("button:text('Release')").ClickAsync();
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync($"Released Floating IP {address}.");

        await Cloud.FollowAsync(page, "Instances");
        await Expect(addresses).Not.ToContainTextAsync("floating");
        await row.Locator("button:text('Delete')").ClickAsync();
        await Expect(row).ToHaveCountAsync(0, new() { Timeout = 60_000 });
        cloud.AssertNoPageErrors();
    }

    [Fact]
    public async Task A_network_made_in_one_region_is_not_listed_in_the_other()
    {
        var page = await cloud.AdminPageAsync("RegionOne");
        await CreateNetworkAsync(page, "dash-one-net", "dash-one-subnet", "10.91.30.0/24");
        await cloud.SwitchRegionAsync(page, "RegionTwo");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Networks");
        await CreateNetworkAsync(page, "dash-two-net", "dash-two-subnet", "10.91.31.0/24");
        await Expect(page.Locator("#networks")).Not.ToContainTextAsync("dash-one-net");

        await cloud.SwitchRegionAsync(page, "RegionOne");
        await Expect(Cloud.Row(page, "#networks", "dash-one-net")).ToContainTextAsync("10.91.30.0/24");
        await Expect(page.Locator("#networks")).Not.ToContainTextAsync("dash-two-net");
        // The detail of RegionOne's network, then a switch: back to RegionTwo's list, which does not have it.
        await Cloud.Row(page, "#networks", "dash-one-net").Locator("th a").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("dash-one-net");
        await cloud.SwitchRegionAsync(page, "RegionTwo");
        await cloud.WaitForPageAsync(page, "project/networks");
        await Expect(Cloud.Row(page, "#networks", "dash-two-net")).ToBeVisibleAsync();
        await Expect(page.Locator("#networks")).Not.ToContainTextAsync("dash-one-net");

        // Each region's network service agrees.
        Assert.Contains("dash-one-net", await NetworkNamesAsync("RegionOne"));
        Assert.DoesNotContain("dash-two-net", await NetworkNamesAsync("RegionOne"));
        Assert.Contains("dash-two-net", await NetworkNamesAsync("RegionTwo"));
        Assert.DoesNotContain("dash-one-net", await NetworkNamesAsync("RegionTwo"));
        cloud.AssertNoPageErrors();
    }

    [Fact]
    public async Task A_region_without_a_network_service_shows_a_note_instead_of_the_panels()
    {
        // RegionThree: a region whose catalog has only an identity endpoint.
        await using var bare = await cloud.BareRegionAsync();
        var page = await cloud.AdminPageAsync("RegionThree");
        foreach (var (link, heading) in new[] { ("Networks", "Networks"), ("Routers", "Routers"), ("Security Groups", "Security Groups"), ("Floating IPs", "Floating IPs") })
        {
            await Cloud.FollowAsync(page, link);
            await Expect(page.Locator("h1")).ToHaveTextAsync(heading);
            await Expect(page.Locator("#no-network")).ToHaveTextAsync("RegionThree has no network service in the catalog: networks, routers, security groups and floating IPs are not available in this region.");
            await Expect(page.Locator("main table, main form.form")).ToHaveCountAsync(0);
        }
        // A post there acts on nothing either.
        var response = await cloud.PostFormAsync(page, "project/networks", "Create", new() { ["Name"] = "dash-nowhere" });
        Assert.Equal(200, response.Status);
        Assert.Contains("RegionThree has no network service", await response.TextAsync(), StringComparison.Ordinal);
        cloud.AssertNoPageErrors();
    }

    async Task CreateNetworkAsync(IPage page, string name, string subnet, string cidr)
    {
        await Cloud.FollowAsync(page, "Networks");
        await Cloud.OpenFormAsync(page, "Create Network");
        await page.FillAsync("#Name", name);
        await page.FillAsync("#Subnet_Name", subnet);
        await page.FillAsync("#Subnet_Cidr", cidr);
        await page.ClickAsync("button:text('Create Network')");
        await Expect(page.Locator(".alert-success")).ToHaveTextAsync($"Created network \"{name}\".");
        await Expect(Cloud.Row(page, "#networks", name)).ToContainTextAsync($"{subnet} {cidr}");
    }

    /// <summary>Allocates a floating IP from "public" on the Floating IPs page: its address.</summary>
    static async Task<string> AllocateAsync(IPage page, string prefix)
    {
        await Cloud.OpenFormAsync(page, "Allocate IP To Project");
        await page.SelectOptionAsync("#Pool", new SelectOptionValue { Label = "public" });
        await page.ClickAsync("button:text('Allocate IP')");
        await Expect(page.Locator(".alert-success")).ToContainTextAsync("Allocated Floating IP " + prefix);
        var address = Regex.Match(await page.Locator(".alert-success").InnerTextAsync(), @"\d+\.\d+\.\d+\.\d+").Value;
        await Expect(Cloud.Row(page, "#floating-ips", address)).ToBeVisibleAsync();
        return address;
    }

    /// <summary>The names of the networks the region's network service lists for the admin.</summary>
    async Task<List<string?>> NetworkNamesAsync(string region) =>
        (await cloud.AdminApiAsync(HttpMethod.Get, $"http://{cloud.ControllerOf(region)}:9696/v2.0/networks"))!["networks"]!.AsArray().Select(n => (string?)n!["name"]).ToList();

    [GeneratedRegex(@"10\.91\.20\.\d+")]
    private static partial Regex FixedIp();
}
