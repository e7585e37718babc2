using System.Collections.Concurrent;
using System.Diagnostics;

namespace Stratus.Compute.Virt.Qemu;

/// <summary>
/// Decides between KVM and TCG by booting a real Linux kernel under KVM, because an openable
/// <c>/dev/kvm</c> proves nothing: in nested sandboxes it runs a boot sector fine while every Linux
/// kernel hangs right after decompression. The kernel is booted without a root disk; reaching the
/// "VFS: Unable to mount root" panic proves the kernel ran through its whole init. The result is
/// cached per QEMU binary and kernel for the life of the process.
/// </summary>
public static class AcceleratorProbe
{
    /// <summary>What a working KVM reaches in well under a second; TCG needs several.</summary>
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    static readonly ConcurrentDictionary<(string Qemu, string? Kernel), Lazy<Task<ProbeResult>>> Cache = new();

    public sealed record ProbeResult(Accelerator Accelerator, string Reason);

    /// <param name="kernel">a bootable Linux kernel (bzImage); without one KVM cannot be proven and TCG is chosen.</param>
    public static Task<ProbeResult> DetectAsync(string qemuBinary, string? kernel) =>
        Cache.GetOrAdd((qemuBinary, kernel), key => new Lazy<Task<ProbeResult>>(() => ProbeAsync(key.Qemu, key.Kernel))).Value;

    static async Task<ProbeResult> ProbeAsync(string qemuBinary, string? kernel)
    {
        if (!CanOpenKvm(out var why)) return new(Accelerator.Tcg, $"/dev/kvm is not usable: {why}");
        if (kernel is null || !File.Exists(kernel))
            return new(Accelerator.Tcg, "no probe kernel configured, so KVM cannot be proven to boot a guest");

        var dir = Directory.CreateTempSubdirectory("stratus-kvm-probe-");
        try
        {
            var console = Path.Combine(dir.FullName, "console.log");
            var psi = new ProcessStartInfo(qemuBinary) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in (string[])["-accel", "kvm", "-no-user-config", "-nodefaults", "-display", "none", "-m", "128",
                         "-serial", $"file:{console}", "-kernel", kernel, "-append", "console=ttyS0 panic=-1", "-no-reboot"])
                psi.ArgumentList.Add(a);
            using var process = Process.Start(psi) ?? throw new VirtException($"could not start {qemuBinary}");
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                return new(Accelerator.Tcg, $"a Linux guest did not finish booting under KVM within {Timeout.TotalSeconds:0} s");
            }
            var output = File.Exists(console) ? await File.ReadAllTextAsync(console) : "";
            return output.Contains("Unable to mount root", StringComparison.Ordinal)
                ? new(Accelerator.Kvm, "a Linux guest booted under KVM")
                : new(Accelerator.Tcg, $"a Linux guest failed under KVM (exit code {process.ExitCode}): {(await stderr).Trim()}");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    static bool CanOpenKvm(out string why)
    {
        try
        {
            using var kvm = File.Open("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
            why = "";
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            why = e.Message;
            return false;
        }
    }
}
