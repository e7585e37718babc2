namespace Stratus.Testing;

/// <summary>User data for the test image's guests, which run a <c>#!</c> script at boot and print its output on their console.</summary>
public static class GuestScripts
{
    /// <summary>watch-disks.sh: prints "stratus: disks: [serials]" whenever the guest's virtio disks change.</summary>
    public static readonly string DiskWatcher = Read("watch-disks.sh");

    static string Read(string name)
    {
        using var stream = typeof(GuestScripts).Assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"{name} is not embedded");
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>The last "stratus: disks:" line of a console log, empty when there is none yet.</summary>
    public static string LastDisksLine(string console) =>
        console.Split('\n').LastOrDefault(l => l.Contains("stratus: disks:", StringComparison.Ordinal)) ?? "";
}
