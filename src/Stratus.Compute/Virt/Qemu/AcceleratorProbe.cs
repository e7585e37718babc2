using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Stratus.Core.Config;

namespace Stratus.Compute.Virt.Qemu;

/// <summary>
/// Decides between KVM and TCG by booting a real Linux kernel under KVM, because an openable
/// <c>/dev/kvm</c> proves nothing: in nested sandboxes it runs a boot sector fine while every Linux
/// kernel hangs right after decompression. The kernel is booted without a root disk; reaching the
/// "VFS: Unable to mount root" panic proves the kernel ran through its whole init. The result is
/// cached per QEMU binary and kernel for the life of the process, and kept beside the kernel for a day
/// (<see cref="SavedPath"/>) for the same host kernel and QEMU: where KVM hangs, the probe waits its whole
/// timeout with a core busy, and without the saved result every node's first boot would pay it again.
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

    static readonly TimeSpan SavedFor = TimeSpan.FromDays(1);

    /// <summary>Where a probe's result with this kernel is kept.</summary>
    public static string SavedPath(string kernel) => kernel + ".accelerator.json";

    /// <summary>What a saved result holds besides the result: it stands only for the same host kernel and QEMU, for a day.</summary>
    sealed record Saved(string Host, Accelerator Accelerator, string Reason, DateTime ProbedAt);

    /// <summary>The host kernel's release and the QEMU binary's path, size and time.</summary>
    static string HostKey(string qemuBinary)
    {
        var release = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : "";
        var path = Path.IsPathRooted(qemuBinary) ? qemuBinary
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, qemuBinary)).FirstOrDefault(File.Exists) ?? qemuBinary;
        var file = new FileInfo(path);
        return file.Exists ? $"{release} {path} {file.Length} {file.LastWriteTimeUtc:O}" : $"{release} {path}";
    }

    static async Task<ProbeResult> ProbeAsync(string qemuBinary, string? kernel)
    {
        if (!CanOpenKvm(out var why)) return new(Accelerator.Tcg, $"/dev/kvm is not usable: {why}");
        if (kernel is null || !File.Exists(kernel))
            return new(Accelerator.Tcg, "no probe kernel configured, so KVM cannot be proven to boot a guest");
        var host = HostKey(qemuBinary);
        try
        {
            if (JsonSerializer.Deserialize<Saved>(await File.ReadAllTextAsync(SavedPath(kernel))) is { } saved && saved.Host == host
                && DateTime.UtcNow - saved.ProbedAt is var age && age >= TimeSpan.Zero && age < SavedFor)
                return new(saved.Accelerator, $"{saved.Reason} (probed at {saved.ProbedAt:u})");
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            // None saved, or unreadable: probe.
        }
        var result = await BootAsync(qemuBinary, kernel);
        try
        {
            AtomicFile.Write(SavedPath(kernel), JsonSerializer.Serialize(new Saved(host, result.Accelerator, result.Reason, DateTime.UtcNow)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not kept: the next process probes again.
        }
        return result;
    }

    static async Task<ProbeResult> BootAsync(string qemuBinary, string kernel)
    {
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
