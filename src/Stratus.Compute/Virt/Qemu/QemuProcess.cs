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
        return pid is { } p && IsLive(p, dir.Path) ? p : null;
    }

    static bool IsLive(int pid, string instancePath)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The state follows the parenthesised command name, which may itself contain spaces.
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            if (state is 'Z' or 'X') return false;
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            return cmdline.Contains(instancePath + "/", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
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
        await WaitForExitAsync(dir, TimeSpan.FromSeconds(10), ct);
        if (FindLive(dir) is not null) throw new VirtException($"QEMU process {pid} of instance {dir.Uuid} survived SIGKILL");
    }

    /// <summary>True when the process is gone within the timeout.</summary>
    public static async Task<bool> WaitForExitAsync(InstanceDirectory dir, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (FindLive(dir) is not null)
        {
            if (deadline.Elapsed >= timeout) return false;
            await Task.Delay(50, ct);
        }
        return true;
    }
}
