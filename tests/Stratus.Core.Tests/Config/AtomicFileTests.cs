using System.Runtime.Versioning;
using Stratus.Core.Config;

namespace Stratus.Core.Tests.Config;

[UnsupportedOSPlatform("windows")] // file modes
public sealed class AtomicFileTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("stratus-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_file_is_replaced_whole_with_the_mode_asked_even_over_a_temporary_file_a_killed_write_left()
    {
        var path = Path.Combine(_dir, "nova.conf");
        File.WriteAllText(path, "[DEFAULT]\nold = 1\n");
        File.WriteAllText(path + ".tmp", "half of a");

        AtomicFile.Write(path, "[DEFAULT]\nnew = 2\n", AtomicFile.OwnerOnly);
        Assert.Equal("[DEFAULT]\nnew = 2\n", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.False(File.Exists(path + ".tmp"));

        // A mode wider than the umask (a group-writable original kept by region join) is kept as asked.
        var shared = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead;
        AtomicFile.Write(path, "x", shared);
        Assert.Equal(shared, File.GetUnixFileMode(path));
    }
}
