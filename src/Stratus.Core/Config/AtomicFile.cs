namespace Stratus.Core.Config;

/// <summary>Config files written whole or not at all, with their mode from the start.</summary>
public static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="path"/> through a temporary file beside it, renamed over it once complete: a reader sees the
    /// old text or the new, never half of it. The temporary file is created with <paramref name="mode"/> (when given), so
    /// a secret is never readable by others, not even for a moment.
    /// </summary>
    public static void Write(string path, string text, UnixFileMode? mode = null)
    {
        var tmp = path + ".tmp";
        File.Delete(tmp); // one left by a write that was killed
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (mode is { } m && !OperatingSystem.IsWindows()) options.UnixCreateMode = m;
        using (var writer = new StreamWriter(new FileStream(tmp, options))) writer.Write(text);
        // The umask narrows the creation mode: a wider one (an original's 644 kept) is set once the file exists.
        if (mode is { } wanted && !OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, wanted);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The mode of a file's secrets: its owner's alone.</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
}
