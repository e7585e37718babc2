using System.Diagnostics;

namespace Stratus.Compute.Virt.Qemu;

/// <summary>
/// The QEMU process of one instance, found from its pidfile. A pid counts only while <c>/proc</c> shows a
/// live (not zombie) process whose command line names the instance's directory, so a pid reused by
/// another program after a crash is never mistaken for the guest.
/// </summary>
static class QemuProcess
{
    public static int? FindLive(InstanceDirectory dir)
    {
        var pid = dir.ReadPid();
        return pid is { } p && IsRunning(p) && CommandLine(p).Contains(dir.Path + "/", StringComparison.Ordinal) ? p : null;
    }

    /// <summary>
    /// Whether the pid is still a process that has not finished exiting. Its command line is not asked:
    /// the kernel empties it early in exit, while the process still holds its files (the disk).
    /// </summary>
    static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The state follows the parenthesised command name, which may itself contain spaces.
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Kills the process and waits until it is gone, so its disk is no longer written.</summary>
    public static async Task KillAsync(InstanceDirectory dir, CancellationToken ct)
    {
        if (FindLive(dir) is not { } pid) return;
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // It exited in between.
        }
        if (!await WaitForExitAsync(pid, TimeSpan.FromSeconds(10), ct))
            throw new VirtException($"QEMU process {pid} of instance {dir.Uuid} survived SIGKILL");
    }

    /// <summary>True when the instance's process is gone within the timeout.</summary>
    public static Task<bool> WaitForExitAsync(InstanceDirectory dir, TimeSpan timeout, CancellationToken ct) =>
        FindLive(dir) is { } pid ? WaitForExitAsync(pid, timeout, ct) : Task.FromResult(true);

    public static async Task<bool> WaitForExitAsync(int pid, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (IsRunning(pid))
        {
            if (deadline.Elapsed >= timeout) return false;
            await Task.Delay(50, ct);
        }
        return true;
    }
}
