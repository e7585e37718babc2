using System.Text.RegularExpressions;

namespace Stratus.Compute.Tests.Virt.Qemu;

/// <summary>
/// Tests destroy their instances; a failed one may leave a QEMU behind, which must not outlive the run, nor
/// its tap devices (QEMU opens taps the driver made, so they stay when it dies).
/// </summary>
static partial class LeftoverGuests
{
    [GeneratedRegex(@"ifname=([^,\s]+)")]
    private static partial Regex TapArgument();

    public static void Kill(string instancesRoot)
    {
        if (!Directory.Exists(instancesRoot)) return;
        foreach (var pidFile in Directory.EnumerateFiles(instancesRoot, "qemu.pid", SearchOption.AllDirectories))
        {
            if (!int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid)) continue;
            string commandLine;
            try { commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
            catch (IOException) { continue; }
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(5000);
            }
            catch (ArgumentException) { }
            foreach (Match tap in TapArgument().Matches(commandLine))
                if (Directory.Exists(Path.Combine("/sys/class/net", tap.Groups[1].Value)))
                    System.Diagnostics.Process.Start("ip", ["link", "delete", tap.Groups[1].Value])?.WaitForExit(5000);
        }
    }
}
