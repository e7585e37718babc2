using System.Text.RegularExpressions;

namespace Stratus.Placement.Api;

/// <summary>Standard resource classes and traits (os-resource-classes, os-traits) and the CUSTOM_ names operators add.</summary>
public static partial class Names
{
    public static readonly HashSet<string> StandardClasses = Load("standard-resource-classes.txt");
    public static readonly HashSet<string> StandardTraits = Load("standard-traits.txt");

    static HashSet<string> Load(string name)
    {
        using var s = typeof(Names).Assembly.GetManifestResourceStream("Stratus.Placement." + name)!;
        return new StreamReader(s).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
    }

    [GeneratedRegex("^CUSTOM_[A-Z0-9_]+$")]
    public static partial Regex Custom();

    public static async Task<bool> ClassExistsAsync(PlacementDb db, string rc, CancellationToken ct) =>
        StandardClasses.Contains(rc) || await db.CustomNames.AnyAsync(n => n.Kind == "rc" && n.Name == rc, ct);

    public static async Task<bool> TraitExistsAsync(PlacementDb db, string trait, CancellationToken ct) =>
        StandardTraits.Contains(trait) || await db.CustomNames.AnyAsync(n => n.Kind == "trait" && n.Name == trait, ct);
}
