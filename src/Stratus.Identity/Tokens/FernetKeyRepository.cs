using System.Security.Cryptography;

namespace Stratus.Identity.Tokens;

/// <summary>
/// Keystone's Fernet key repository: files named 0..N holding base64url keys. The highest index is
/// the primary (encrypts), 0 is the staged key (becomes the next primary), the rest only decrypt.
/// Several identity nodes sharing one repository accept each other's tokens. Keys are re-read when
/// the directory changes, so a rotation by <c>keystone-manage fernet_rotate</c> takes effect live.
/// </summary>
public sealed class FernetKeyRepository(string directory, int maxActiveKeys = 3)
{
    public string Directory { get; } = directory;

    readonly object _gate = new();
    IReadOnlyList<byte[]>? _keys;
    DateTime _loadedStamp;
    long _checkedAt;

    /// <summary>keystone-manage fernet_setup: a staged key 0 and a primary 1; existing keys are kept.</summary>
    public void Setup()
    {
        System.IO.Directory.CreateDirectory(Directory);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (Indexes().Count > 0) return;
        WriteKey(0);
        Rotate();
    }

    /// <summary>keystone-manage fernet_rotate: staged 0 becomes primary max+1, a new 0 is staged, the oldest pruned.</summary>
    public void Rotate()
    {
        var indexes = Indexes();
        if (!indexes.Contains(0)) WriteKey(0);
        var next = indexes.Count == 0 ? 1 : indexes.Max() + 1;
        File.Move(PathOf(0), PathOf(next));
        WriteKey(0);
        var secondary = Indexes().Where(i => i != 0).Order().ToList();
        // max_active_keys counts the staged and primary keys too.
        while (secondary.Count > Math.Max(1, maxActiveKeys - 1))
        {
            File.Delete(PathOf(secondary[0]));
            secondary.RemoveAt(0);
        }
        lock (_gate) _keys = null;
    }

    /// <summary>The keys, primary first then the others by descending index (Keystone's MultiFernet order).</summary>
    public IReadOnlyList<byte[]> LoadKeys()
    {
        var now = Environment.TickCount64;
        if (_keys is { } cached && now - Volatile.Read(ref _checkedAt) < 1000) return cached;
        lock (_gate)
        {
            var stamp = System.IO.Directory.Exists(Directory) ? System.IO.Directory.GetLastWriteTimeUtc(Directory) : default;
            if (_keys is null || stamp != _loadedStamp)
            {
                var indexes = Indexes();
                if (indexes.Count == 0)
                    throw new InvalidOperationException($"no Fernet keys in {Directory}: run keystone-manage fernet_setup");
                _keys = indexes.OrderDescending().Select(i => Decode(File.ReadAllText(PathOf(i)).Trim(), i)).ToList();
                _loadedStamp = stamp;
            }
            Volatile.Write(ref _checkedAt, now);
            return _keys;
        }
    }

    byte[] Decode(string text, int index)
    {
        try
        {
            var key = Convert.FromBase64String(text.Replace('-', '+').Replace('_', '/'));
            if (key.Length == 32) return key;
        }
        catch (FormatException)
        {
        }
        throw new InvalidOperationException($"Fernet key {PathOf(index)} is not a 32-byte base64url key");
    }

    List<int> Indexes() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.GetFiles(Directory).Select(Path.GetFileName)
                .Select(n => int.TryParse(n, out var i) && i >= 0 ? i : -1).Where(i => i >= 0).ToList()
            : [];

    string PathOf(int index) => Path.Combine(Directory, index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    void WriteKey(int index)
    {
        var text = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).Replace('+', '-').Replace('/', '_');
        var tmp = Path.Combine(Directory, $".tmp-{Guid.NewGuid():N}");
        File.WriteAllText(tmp, text);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, PathOf(index), overwrite: true);
    }
}
