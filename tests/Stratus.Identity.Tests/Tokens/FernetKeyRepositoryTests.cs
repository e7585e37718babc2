using Microsoft.Extensions.Time.Testing;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Tests.Tokens;

public sealed class FernetKeyRepositoryTests : IDisposable
{
    readonly TempKeyDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    string Read(string name) => File.ReadAllText(Path.Combine(_dir.Path, name));

    [Fact]
    public void Setup_makes_a_staged_and_a_primary_key_as_keystone_manage_does()
    {
        _dir.Repository().Setup();

        Assert.Equal(["0", "1"], _dir.KeyNames());
        foreach (var name in new[] { "0", "1" })
        {
            var text = Read(name);
            Assert.Matches("^[A-Za-z0-9_-]{43}=$", text); // Fernet.generate_key(): 44 characters, no newline
            Assert.Equal(32, Convert.FromBase64String(text.Replace('-', '+').Replace('_', '/')).Length);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir.Path, name)));
        }
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_dir.Path));
        Assert.NotEqual(Read("0"), Read("1"));
    }

    [Fact]
    public void Setup_is_idempotent()
    {
        var repo = _dir.Repository();
        repo.Setup();
        var before = _dir.KeyNames().ToDictionary(n => n, Read);
        repo.Setup();
        _dir.Repository().Setup();
        Assert.Equal(before, _dir.KeyNames().ToDictionary(n => n, Read));
    }

    [Fact]
    public void Setup_only_stages_a_key_when_the_repository_has_keys_but_no_staged_one()
    {
        var repo = _dir.Repository();
        repo.Setup();
        repo.Rotate();
        File.Delete(Path.Combine(_dir.Path, "0"));
        var primary = Read("2");
        repo.Setup();
        Assert.Equal(["0", "1", "2"], _dir.KeyNames());
        Assert.Equal(primary, Read("2"));
    }

    [Fact]
    public void Rotate_promotes_the_staged_key_and_prunes_like_fernet_rotate()
    {
        var repo = _dir.Repository(maxActiveKeys: 3);
        repo.Setup();
        var staged = Read("0");
        var primary = Read("1");

        repo.Rotate();
        Assert.Equal(["0", "1", "2"], _dir.KeyNames());
        Assert.Equal(staged, Read("2")); // the staged key became the primary
        Assert.Equal(primary, Read("1"));
        Assert.NotEqual(staged, Read("0"));

        repo.Rotate();
        Assert.Equal(["0", "2", "3"], _dir.KeyNames()); // max_active_keys = 3: 1 is gone
        repo.Rotate();
        Assert.Equal(["0", "3", "4"], _dir.KeyNames());

        var five = _dir.Repository(maxActiveKeys: 5);
        five.Rotate();
        five.Rotate();
        five.Rotate();
        Assert.Equal(["0", "4", "5", "6", "7"], _dir.KeyNames());
        Assert.Empty(Directory.GetFiles(_dir.Path, "*tmp*"));
    }

    [Fact]
    public void Keys_load_primary_first_then_by_descending_index()
    {
        var repo = _dir.Repository(maxActiveKeys: 4);
        repo.Setup();
        repo.Rotate();
        repo.Rotate();
        Assert.Equal(["0", "1", "2", "3"], _dir.KeyNames());
        string[] order = ["3", "2", "1", "0"];
        var expected = order.Select(n => Convert.FromBase64String(Read(n).Replace('-', '+').Replace('_', '/'))).ToArray();
        Assert.Equal(expected, repo.LoadKeys());
        Assert.Equal(expected, repo.CurrentKeys());
    }

    [Fact]
    public void Ignores_what_keystone_ignores()
    {
        var repo = _dir.Repository();
        repo.Setup();
        File.WriteAllText(Path.Combine(_dir.Path, "0.tmp"), "garbage");
        File.WriteAllText(Path.Combine(_dir.Path, "README"), "garbage");
        File.WriteAllText(Path.Combine(_dir.Path, "7"), ""); // empty: skipped
        Directory.CreateDirectory(Path.Combine(_dir.Path, "9"));
        File.AppendAllText(Path.Combine(_dir.Path, "1"), "\n"); // an editor's newline is harmless
        Assert.Equal(2, repo.LoadKeys().Count);
    }

    [Fact]
    public void Reads_keys_made_by_keystone()
    {
        using var dir = KeystoneVectors.KeyDirectory();
        var keys = dir.Repository().LoadKeys();
        Assert.Equal(3, keys.Count);
        Assert.All(keys, k => Assert.Equal(32, k.Length));
        var primary = (string)KeystoneVectors.Root["keys"]!["2"]!;
        Assert.Equal(Convert.FromBase64String(primary.Replace('-', '+').Replace('_', '/')), keys[0]);
    }

    [Fact]
    public void Missing_keys_name_the_directory()
    {
        var repo = _dir.Repository();
        var e = Assert.Throws<InvalidOperationException>(() => repo.LoadKeys());
        Assert.Contains(_dir.Path, e.Message);
        Assert.Contains("keystone-manage fernet_setup", e.Message);
        Assert.Throws<InvalidOperationException>(() => repo.CurrentKeys());
        Assert.Throws<InvalidOperationException>(() => repo.Rotate());

        Directory.CreateDirectory(_dir.Path);
        File.WriteAllText(Path.Combine(_dir.Path, "1"), "not a key");
        var bad = Assert.Throws<InvalidOperationException>(() => repo.LoadKeys());
        Assert.Contains(Path.Combine(_dir.Path, "1"), bad.Message);
    }

    [Fact]
    public void Current_keys_follow_a_rotation_by_another_process()
    {
        var clock = new FakeTimeProvider();
        var repo = _dir.Repository(time: clock);
        repo.Setup();
        var before = repo.CurrentKeys();
        Assert.Same(before, repo.CurrentKeys()); // cached

        _dir.Repository().Rotate(); // "another process"
        clock.Advance(FernetKeyRepository.RecheckInterval - TimeSpan.FromTicks(1));
        Assert.Same(before, repo.CurrentKeys()); // re-checked at most once a second
        clock.Advance(TimeSpan.FromTicks(1));
        var after = repo.CurrentKeys();
        Assert.Equal(3, after.Count);
        Assert.Equal(before[0], after[1]);

        repo.Rotate(); // this instance's own rotation shows at once
        Assert.Equal(repo.LoadKeys(), repo.CurrentKeys());

        // Unchanged files: the same list, not a re-read.
        clock.Advance(FernetKeyRepository.RecheckInterval);
        var again = repo.CurrentKeys();
        clock.Advance(FernetKeyRepository.RecheckInterval);
        Assert.Same(again, repo.CurrentKeys());
    }

    [Fact]
    public void Current_keys_notice_a_key_rewritten_in_place()
    {
        var clock = new FakeTimeProvider();
        var repo = _dir.Repository(time: clock);
        repo.Setup();
        var before = repo.CurrentKeys();
        var replacement = Convert.ToBase64String(new byte[32]).Replace('+', '-').Replace('/', '_');
        var path = Path.Combine(_dir.Path, "1");
        File.WriteAllText(path, replacement);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        clock.Advance(FernetKeyRepository.RecheckInterval);
        Assert.Equal(new byte[32], repo.CurrentKeys()[0]);
        Assert.NotEqual(before[0], repo.CurrentKeys()[0]);
    }
}
