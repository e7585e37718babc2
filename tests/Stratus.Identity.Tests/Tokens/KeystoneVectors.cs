using System.Globalization;
using System.Text.Json.Nodes;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Tests.Tokens;

/// <summary>
/// keystone-vectors.json, made by make-vectors.py with the real Keystone. Found by walking up from the
/// test binaries to the repository (the test project does not copy it to its output).
/// </summary>
static class KeystoneVectors
{
    const string RelativePath = "tests/Stratus.Identity.Tests/Tokens/keystone-vectors.json";

    static readonly Lazy<JsonObject> Data = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, RelativePath);
            if (File.Exists(candidate)) return JsonNode.Parse(File.ReadAllText(candidate))!.AsObject();
        }
        throw new FileNotFoundException($"{RelativePath} not found above {AppContext.BaseDirectory}");
    });

    public static JsonObject Root => Data.Value;

    public static IEnumerable<JsonObject> Tokens => Root["tokens"]!.AsArray().Select(t => t!.AsObject());

    public static JsonObject Token(string name) => Tokens.Single(t => (string)t["name"]! == name);

    /// <summary>A key repository holding the vectors' key files; delete with <see cref="TempKeyDirectory.Dispose"/>.</summary>
    public static TempKeyDirectory KeyDirectory()
    {
        var dir = new TempKeyDirectory();
        Directory.CreateDirectory(dir.Path);
        foreach (var (name, text) in Root["keys"]!.AsObject())
            File.WriteAllText(System.IO.Path.Combine(dir.Path, name), (string)text!);
        return dir;
    }

    public static DateTime Time(string iso) =>
        DateTime.ParseExact(iso, "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
}

/// <summary>A fresh path under the temporary directory for a key repository (not created), removed on dispose.</summary>
sealed class TempKeyDirectory : IDisposable
{
    readonly string _parent = Directory.CreateTempSubdirectory("stratus-fernet-").FullName;

    public string Path => System.IO.Path.Combine(_parent, "fernet-keys");

    public FernetKeyRepository Repository(int maxActiveKeys = 3, TimeProvider? time = null) => new(Path, maxActiveKeys, time);

    public string[] KeyNames() =>
        [.. Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal).Select(n => n!)];

    public void Dispose()
    {
        try
        {
            Directory.Delete(_parent, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
