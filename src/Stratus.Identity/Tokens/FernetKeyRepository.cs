using System.Globalization;
using System.Security.Cryptography;

namespace Stratus.Identity.Tokens;

/// <summary>
/// Keystone's Fernet key repository: files named by a number, each holding a base64url-encoded 32-byte
/// key (44 characters with padding, no newline, mode 0600). The highest number is the primary key (it
/// encrypts), 0 is the staged key (the next primary, already accepted so that nodes which have not yet
/// synced the rotation still validate new tokens), the others are secondary keys that only decrypt.
/// The layout, file format and rotation are those of <c>keystone-manage fernet_setup</c> and
/// <c>fernet_rotate</c>, so Keystone and Stratus nodes can share one repository.
/// </summary>
public sealed class FernetKeyRepository
{
    /// <summary>How often <see cref="CurrentKeys"/> looks at the directory for changes.</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    const UnixFileMode KeyFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <param name="directory">The key repository (Keystone's <c>[fernet_tokens] key_repository</c>).</param>
    /// <param name="maxActiveKeys">Keystone's <c>[fernet_tokens] max_active_keys</c>: staged + primary + secondary keys kept by a rotation.</param>
    /// <param name="time">The clock of <see cref="RecheckInterval"/> (the system's by default).</param>
    public FernetKeyRepository(string directory, int maxActiveKeys = 3, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxActiveKeys, 1);
        Directory = directory;
        MaxActiveKeys = maxActiveKeys;
        _time = time ?? TimeProvider.System;
    }

    public string Directory { get; }
    public int MaxActiveKeys { get; }

    sealed record Snapshot(IReadOnlyList<byte[]> Keys, string Fingerprint, long CheckedAt, int Generation);

    readonly TimeProvider _time;
    readonly Lock _gate = new();
    volatile Snapshot? _snapshot;
    int _generation; // bumped by this instance's Setup/Rotate so that CurrentKeys sees them at once

    /// <summary>
    /// <c>keystone-manage fernet_setup</c>: creates the directory (mode 0700) if needed, then a staged
    /// key 0 and a primary key 1. A repository that already has a staged key is left alone; one that
    /// has other keys but no staged key only gets a staged key (no rotation, nothing removed).
    /// </summary>
    public void Setup()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(Directory);
            else System.IO.Directory.CreateDirectory(Directory, DirectoryMode);
        }
        if (File.Exists(PathOf(0))) return;
        var existing = KeyFiles().Count;
        // Another node sharing the repository may be setting it up right now: whoever stages key 0 first wins.
        if (!TryInstallNewKey(0)) return;
        if (existing == 0) Rotate();
        Interlocked.Increment(ref _generation);
    }

    /// <summary>
    /// <c>keystone-manage fernet_rotate</c>: the staged key 0 becomes the primary (highest index + 1),
    /// a new staged key 0 is created, and the oldest secondary keys are deleted so that at most
    /// <see cref="MaxActiveKeys"/> keys remain (staged key included).
    /// </summary>
    /// <exception cref="InvalidOperationException">The repository has no keys or no staged key 0.</exception>
    public void Rotate()
    {
        var files = KeyFiles();
        if (files.Count == 0) throw NoKeys();
        if (!files.ContainsKey(0))
            throw new InvalidOperationException($"The Fernet key repository {Directory} has no staged key 0: run keystone-manage fernet_setup to stage one");

        var tmp = WriteTemporaryKey();
        try
        {
            var primary = files.Keys.Max() + 1;
            File.Move(PathOf(0), PathOf(primary), overwrite: false);
            files.Remove(0);
            files[primary] = PathOf(primary);
            File.Move(tmp, PathOf(0), overwrite: false);
        }
        finally
        {
            File.Delete(tmp); // gone already unless something failed
        }

        // As Keystone: keep max_active_keys - 1 keys besides the new staged one, dropping the lowest.
        foreach (var index in files.Keys.OrderDescending().Skip(MaxActiveKeys - 1))
            File.Delete(files[index]);
        Interlocked.Increment(ref _generation);
    }

    /// <summary>
    /// Reads the keys from disk: primary first, then the others by descending index (the staged key 0
    /// last), which is the order of Keystone's MultiFernet. Empty files and names that are not numbers
    /// are ignored, as Keystone does.
    /// </summary>
    /// <exception cref="InvalidOperationException">No keys, or a key file that does not hold a 32-byte key.</exception>
    public IReadOnlyList<byte[]> LoadKeys() => Load(KeyFiles());

    /// <summary>
    /// The keys as <see cref="LoadKeys"/> returns them, from memory: the repository is looked at again
    /// at most once per <see cref="RecheckInterval"/> (and at once after this instance's own
    /// <see cref="Setup"/> or <see cref="Rotate"/>), and re-read only when its files changed. A rotation
    /// by another process or node therefore takes effect within a second, without a restart. When a
    /// re-read fails (a copy in progress, say) the previous keys stay in use until the next check.
    /// </summary>
    public IReadOnlyList<byte[]> CurrentKeys()
    {
        var s = _snapshot;
        var now = _time.GetTimestamp();
        if (s is not null && _time.GetElapsedTime(s.CheckedAt, now) < RecheckInterval && s.Generation == Volatile.Read(ref _generation))
            return s.Keys;
        lock (_gate)
        {
            s = _snapshot;
            var generation = Volatile.Read(ref _generation);
            if (s is not null && _time.GetElapsedTime(s.CheckedAt, now) < RecheckInterval && s.Generation == generation)
                return s.Keys;
            try
            {
                var files = KeyFiles();
                var fingerprint = Fingerprint(files);
                var keys = s is not null && fingerprint == s.Fingerprint ? s.Keys : Load(files);
                _snapshot = new Snapshot(keys, fingerprint, now, generation);
                return keys;
            }
            catch (Exception e) when (s is not null && e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                _snapshot = s with { CheckedAt = now };
                return s.Keys;
            }
        }
    }

    IReadOnlyList<byte[]> Load(SortedDictionary<int, string> files)
    {
        var keys = new List<byte[]>(files.Count);
        foreach (var path in files.Values.Reverse())
        {
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (FileNotFoundException)
            {
                continue; // removed by a concurrent rotation since the listing
            }
            if (text.Length == 0) continue; // Keystone skips empty key files too
            keys.Add(Decode(text, path));
        }
        if (keys.Count == 0) throw NoKeys();
        return keys.AsReadOnly();
    }

    InvalidOperationException NoKeys() =>
        new($"No Fernet keys in the key repository {Directory}: run keystone-manage fernet_setup");

    /// <summary>Keystone's key text: Python decodes it leniently (whitespace, either base64 alphabet), so do we.</summary>
    static byte[] Decode(string text, string path)
    {
        var s = text.Trim().Replace('-', '+').Replace('_', '/');
        if (s.Length % 4 != 0) s = s.PadRight(s.Length + 4 - s.Length % 4, '=');
        try
        {
            var key = Convert.FromBase64String(s);
            if (key.Length == Fernet.KeySize) return key;
        }
        catch (FormatException)
        {
        }
        throw new InvalidOperationException($"The Fernet key file {path} does not hold a base64url-encoded {Fernet.KeySize}-byte key");
    }

    /// <summary>The key files by index: regular files (or links to them) whose whole name is a number.</summary>
    SortedDictionary<int, string> KeyFiles()
    {
        var files = new SortedDictionary<int, string>();
        if (!System.IO.Directory.Exists(Directory)) return files;
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory))
        {
            var name = Path.GetFileName(path.AsSpan());
            if (name.Length is > 0 and <= 9 && int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                files.TryAdd(index, path);
        }
        return files;
    }

    /// <summary>What changes when the keys could have: the directory's and each key file's write time and size.</summary>
    string Fingerprint(SortedDictionary<int, string> files)
    {
        var parts = new List<string>(files.Count + 1) { System.IO.Directory.GetLastWriteTimeUtc(Directory).Ticks.ToString(CultureInfo.InvariantCulture) };
        foreach (var (index, path) in files)
        {
            var info = new FileInfo(path);
            parts.Add(info.Exists
                ? string.Create(CultureInfo.InvariantCulture, $"{index}:{info.Length}:{info.LastWriteTimeUtc.Ticks}")
                : string.Create(CultureInfo.InvariantCulture, $"{index}:-"));
        }
        return string.Join('|', parts);
    }

    string PathOf(int index) => Path.Combine(Directory, index.ToString(CultureInfo.InvariantCulture));

    /// <summary>Writes a new key under a temporary name, then renames it to <paramref name="index"/> unless that exists.</summary>
    bool TryInstallNewKey(int index)
    {
        var tmp = WriteTemporaryKey();
        try
        {
            File.Move(tmp, PathOf(index), overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(PathOf(index)))
        {
            return false;
        }
        finally
        {
            File.Delete(tmp);
        }
    }

    /// <summary>A new random key, as Keystone writes it (base64url with padding, no newline), mode 0600, under a temporary name.</summary>
    string WriteTemporaryKey()
    {
        var tmp = Path.Combine(Directory, $".0.tmp-{Guid.NewGuid():N}");
        var key = RandomNumberGenerator.GetBytes(Fernet.KeySize);
        try
        {
            var text = Convert.ToBase64String(key).Replace('+', '-').Replace('/', '_');
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = KeyFileMode;
            using (var stream = new FileStream(tmp, options))
            {
                stream.Write(System.Text.Encoding.ASCII.GetBytes(text));
                stream.Flush(flushToDisk: true);
            }
            return tmp;
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
