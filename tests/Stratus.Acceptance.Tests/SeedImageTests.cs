using Stratus.Acceptance.Tests.Infrastructure;

namespace Stratus.Acceptance.Tests;

/// <summary>
/// Seed section 5.1 across two hosts: a RegionTwo controller initialised against RegionOne's
/// identity registers its image service there over the identity API, and serves images that only
/// RegionTwo has.
/// </summary>
public sealed class SeedImageTests(StratusNode regionOne) : IClassFixture<StratusNode>, IAsyncLifetime
{
    StratusNode _regionTwo = null!;

    public async Task InitializeAsync()
    {
        _regionTwo = StratusNode.UsingIdentity("RegionTwo", regionOne.AuthUrl);
        await _regionTwo.InitializeAsync();
    }

    public async Task DisposeAsync() => await _regionTwo.DisposeAsync();

    [Fact]
    public async Task A_RegionTwo_node_registers_its_image_service_in_RegionOnes_identity_and_keeps_its_images()
    {
        var conf = await File.ReadAllTextAsync(Path.Combine(_regionTwo.ConfigDir, "glance", "glance-api.conf"));
        Assert.Contains($"auth_url = http://{regionOne.Address}:5000", conf);
        Assert.Contains("region_name = RegionTwo", conf);
        Assert.True(File.Exists(Path.Combine(_regionTwo.ConfigDir, "glance", "glance-registry.conf")));

        var endpoints = await regionOne.OpenStackAsync("endpoint", "list", "--service", "image", "--region", "RegionTwo", "-f", "value", "-c", "URL");
        Assert.Equal(3, endpoints.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l == $"http://{_regionTwo.Address}:9292"));

        var file = Path.Combine(_regionTwo.ConfigDir, "cirros.img");
        await File.WriteAllBytesAsync(file, System.Security.Cryptography.RandomNumberGenerator.GetBytes(100_000));
        // The seed's check: with OS_REGION_NAME=RegionTwo and RegionOne's auth URL, the CLI reaches RegionTwo's glance.
        var r2 = _regionTwo.AdminEnv();
        (await ProcessRunner.RunAsync("openstack", ["image", "create", "cirrosr2", "--file", file, "--disk-format", "qcow2", "--container-format", "bare", "--public"], r2))
            .EnsureSuccess("image create in RegionTwo");
        var inTwo = (await ProcessRunner.RunAsync("openstack", ["image", "list", "-f", "value", "-c", "Name"], r2)).EnsureSuccess("image list");
        Assert.Equal("cirrosr2", inTwo.Stdout.Trim());
        var inOne = await regionOne.OpenStackAsync("image", "list", "-f", "value", "-c", "Name");
        Assert.DoesNotContain("cirrosr2", inOne.Stdout);
        var fromOne = await regionOne.OpenStackAsync("image", "list", "--os-region-name", "RegionTwo", "-f", "value", "-c", "Name");
        Assert.Equal("cirrosr2", fromOne.Stdout.Trim());
    }
}
