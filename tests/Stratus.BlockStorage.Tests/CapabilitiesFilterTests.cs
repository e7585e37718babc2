using Stratus.BlockStorage.Backends;
using Stratus.BlockStorage.Scheduler;

namespace Stratus.BlockStorage.Tests;

/// <summary>The scheduler's match of a volume type's extra specs against a file backend's capabilities (Cinder's CapabilitiesFilter).</summary>
public sealed class CapabilitiesFilterTests
{
    [Theory]
    [InlineData("volume_backend_name", "file", true)]
    [InlineData("volume_backend_name", "lvm", false)]
    [InlineData("capabilities:storage_protocol", "local", true)]
    [InlineData("storage_protocol", "iSCSI", false)]
    [InlineData("vendor_name", "<or> Acme <or> Stratus", true)]
    [InlineData("multiattach", "<is> True", true)]
    [InlineData("thick_provisioning_support", "<is> True", false)]
    [InlineData("RESKEY:availability_zones", "elsewhere", true)]
    [InlineData("no_such_capability", "x", false)]
    public void Extra_specs_match_capabilities(string key, string value, bool matches) =>
        Assert.Equal(matches, SchedulerService.Satisfies(FileBackend.Capabilities("file"), new Dictionary<string, string> { [key] = value }));
}
