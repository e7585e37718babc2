using Stratus.Acceptance.Tests.Infrastructure;

namespace Stratus.Acceptance.Tests;

/// <summary>The seed's known errors (section 6) show up where an operator looks, naming what to fix.</summary>
public sealed class SeedMisconfigurationTests
{
    [Fact]
    public async Task A_compute_node_whose_placement_credentials_are_wrong_logs_ResourceProviderCreationFailed_with_the_401()
    {
        await using var node = StratusNode.Custom("RegionOne", null, ["--host", "compute1"], n =>
        {
            n.SetConfig("nova/nova.conf", "DEFAULT", "compute_driver", "fake.FakeDriver");
            n.SetConfig("nova/nova.conf", "DEFAULT", "report_interval", "1");
            n.SetConfig("nova/nova.conf", "placement", "password", "not-the-password");
        });
        await node.InitializeAsync();
        for (var i = 0; i < 600 && !node.Output.Contains("ResourceProviderCreationFailed", StringComparison.Ordinal); i++) await Task.Delay(100);
        var line = node.Output.Split('\n').FirstOrDefault(l => l.Contains("ResourceProviderCreationFailed", StringComparison.Ordinal));
        Assert.True(line is not null, "no ResourceProviderCreationFailed in the node's log:\n" + node.Output);
        // Seed 5.2/6: the operator is told it is placement's 401 and which section of which file to fix.
        Assert.Contains("Failed to create resource provider compute1", line);
        Assert.Contains("401", line);
        Assert.Contains("nova.conf [placement]", line);
        Assert.DoesNotContain("not-the-password", node.Output);
    }
}
