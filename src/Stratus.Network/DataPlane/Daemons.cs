using System.Globalization;
using System.Runtime.InteropServices;

namespace Stratus.Network.DataPlane;

/// <summary>
/// The daemons the agents start in namespaces (dnsmasq, haproxy), as Neutron's process monitor knows them:
/// by a pid file, and by a command line that names the daemon's own file (so a reused pid is never taken for it).
/// </summary>
static class Daemons
{
    public const int SigHup = 1;
    const int SigKill = 9;
    const int SigTerm = 15;

    /// <summary>The pid in <paramref name="pidFile"/>, if that process is <paramref name="program"/> and its arguments contain <paramref name="marker"/>.</summary>
    public static int? RunningPid(string pidFile, string program, string marker)
    {
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out var pid)) return null;
        return Arguments(pid, program).Contains(marker, StringComparer.Ordinal) ? pid : null;
    }

    /// <summary>A process's arguments after its program name; empty when it is gone or is another program.</summary>
    public static IReadOnlyList<string> Arguments(int pid, string program)
    {
        try
        {
            var words = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").TrimEnd('\0').Split('\0');
            return words.Length > 0 && Path.GetFileName(words[0]) == program ? words[1..] : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>SIGTERM, then SIGKILL after 5 s (Neutron's SIGTERM_TIMEOUT); the pid file removed.</summary>
    public static async Task StopAsync(string pidFile, string program, string marker, CancellationToken ct)
    {
        if (RunningPid(pidFile, program, marker) is not { } pid)
        {
            // File.Delete throws when the directory is missing: a proxy that never ran on this host has none.
            if (File.Exists(pidFile)) File.Delete(pidFile);
            return;
        }
        foreach (var signal in (int[])[SigTerm, SigKill])
        {
            Signal(pid, signal, program);
            for (var i = 0; i < 50 && RunningPid(pidFile, program, marker) == pid; i++) await Task.Delay(100, ct);
            if (RunningPid(pidFile, program, marker) != pid) break;
        }
        File.Delete(pidFile);
    }

    public static void Signal(int pid, int signal, string program)
    {
        const int NoSuchProcess = 3;
        if (Kill(pid, signal) != 0 && Marshal.GetLastPInvokeError() != NoSuchProcess)
            throw new DataPlaneException($"cannot signal {program} (pid {pid}): errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int sig);
}
