using Stratus.Compute.TestImage;
using Stratus.Compute.Virt.Qemu;

namespace Stratus.Compute.Tests.Virt.Qemu;

/// <summary>
/// Builds the test image once per run, in a temporary directory (the .debs come from the usual cache),
/// and runs the accelerator probe with its kernel, so every QEMU test boots the same image the same way.
/// </summary>
public sealed class TestImageFixture : IAsyncLifetime
{
    readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("stratus-qemu-");

    public string ImagePath { get; private set; } = "";
    public string KernelPath { get; private set; } = "";
    public AcceleratorProbe.ProbeResult Probe { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var image = await new TestImageBuilder(TestImageBuilder.DefaultCacheDirectory()).BuildAsync(Path.Combine(_root.FullName, "test.qcow2"));
        ImagePath = image.ImagePath;
        KernelPath = image.KernelPath;
        Probe = await AcceleratorProbe.DetectAsync("qemu-system-x86_64", KernelPath);
    }

    /// <summary>A fresh instances_path, short enough for the QMP socket's path limit.</summary>
    public string NewInstancesPath() => Directory.CreateDirectory(Path.Combine(_root.FullName, Guid.NewGuid().ToString("N")[..8])).FullName;

    public QemuDriver NewDriver(string instancesPath) =>
        new(new QemuDriverOptions { InstancesPath = instancesPath, ProbeKernel = KernelPath, ShutdownTimeout = TimeSpan.FromSeconds(60) });

    public Task DisposeAsync()
    {
        LeftoverGuests.Kill(_root.FullName);
        _root.Delete(recursive: true);
        return Task.CompletedTask;
    }
}
