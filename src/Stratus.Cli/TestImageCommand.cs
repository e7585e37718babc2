using Stratus.Compute.TestImage;
using Stratus.Compute.Virt;
using Stratus.Core.Processes;

namespace Stratus.Cli;

/// <summary><c>test-image</c>: builds the small bootable qcow2 the compute tests and smoke tests boot, our CirrOS.</summary>
static class TestImageCommand
{
    public static async Task<int> RunAsync(string output, string? cacheDir)
    {
        try
        {
            var image = await new TestImageBuilder(cacheDir ?? TestImageBuilder.DefaultCacheDirectory()).BuildAsync(output);
            Console.WriteLine($"{image.ImagePath}: boots to a serial console (console=ttyS0) that prints \"{TestImageBuilder.ReadyMarker}\"");
            return 0;
        }
        catch (Exception e) when (e is VirtException or HostCommandException)
        {
            await Console.Error.WriteLineAsync($"stratus: test-image: {e.Message}");
            return 1;
        }
    }
}
