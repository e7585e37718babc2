namespace Stratus.Testing;

/// <summary>User data for the test image's guests, which run a <c>#!</c> script at boot and print its output on their console.</summary>
public static class GuestScripts
{
    /// <summary>
    /// Prints "stratus: disks: [serials]" whenever the guest's virtio disks change (a volume's serial is the
    /// start of its id), for ten minutes, in the background so that the boot goes on.
    /// </summary>
    public const string DiskWatcher = """
        #!/bin/sh
        (
          before=""
          for i in $(seq 1 2400); do
            now=$(cat /sys/block/vd*/serial 2>/dev/null | tr '\n' ' ')
            [ "$now" != "$before" ] && echo "stratus: disks: [$now]"
            before=$now
            sleep 0.25
          done
        ) &

        """;

    /// <summary>The last "stratus: disks:" line of a console log, empty when there is none yet.</summary>
    public static string LastDisksLine(string console) =>
        console.Split('\n').LastOrDefault(l => l.Contains("stratus: disks:", StringComparison.Ordinal)) ?? "";
}
