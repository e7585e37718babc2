using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Stratus.Core.Config;

/// <summary>
/// An oslo.config-style INI file: sections, <c>key = value</c>, comments, indented continuation
/// lines, quoted values and <c>$key</c> / <c>${key}</c> interpolation from the same section or
/// [DEFAULT]. Unknown keys are kept (and ignored by the options that do not read them), so an
/// operator's file from the seed loads unchanged.
/// </summary>
public sealed partial class IniFile
{
    readonly Dictionary<string, Dictionary<string, List<string>>> _sections = new(StringComparer.Ordinal);

    public string Path { get; }

    IniFile(string path) => Path = path;

    public static IniFile Load(string path) => Parse(File.ReadAllText(path), path);

    public static IniFile Parse(string text, string path = "<memory>")
    {
        var ini = new IniFile(path);
        Dictionary<string, List<string>>? section = null;
        List<string>? lastValues = null;
        var lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0) { lastValues = null; continue; }
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith('#') || trimmed.StartsWith(';')) continue;
            if (char.IsWhiteSpace(line[0]) && lastValues is not null)
            {
                // oslo joins continuation lines with a newline.
                lastValues[^1] = lastValues[^1] + "\n" + trimmed.TrimEnd();
                continue;
            }
            if (trimmed.StartsWith('['))
            {
                var end = trimmed.IndexOf(']', StringComparison.Ordinal);
                if (end < 2)
                    throw new ConfigException(path, null, null, $"line {lineNo}: invalid section header '{trimmed}'");
                var name = trimmed[1..end].Trim();
                if (!ini._sections.TryGetValue(name, out section))
                    ini._sections[name] = section = new Dictionary<string, List<string>>(StringComparer.Ordinal);
                lastValues = null;
                continue;
            }
            var sep = IndexOfSeparator(trimmed);
            if (sep <= 0)
                throw new ConfigException(path, null, null, $"line {lineNo}: expected 'key = value', got '{trimmed}'");
            if (section is null)
                throw new ConfigException(path, null, null, $"line {lineNo}: key outside of any section");
            var key = trimmed[..sep].Trim();
            var value = Unquote(trimmed[(sep + 1)..].Trim());
            if (!section.TryGetValue(key, out var values))
                section[key] = values = [];
            values.Add(value);
            lastValues = values;
        }
        return ini;
    }

    static int IndexOfSeparator(string line)
    {
        var eq = line.IndexOf('=', StringComparison.Ordinal);
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        if (eq < 0) return colon;
        if (colon < 0) return eq;
        return Math.Min(eq, colon);
    }

    static string Unquote(string v) =>
        v.Length >= 2 && v[0] == v[^1] && (v[0] == '"' || v[0] == '\'') ? v[1..^1] : v;

    public IEnumerable<string> Sections => _sections.Keys;

    public bool HasSection(string section) => _sections.ContainsKey(section);

    /// <summary>The keys set in the section itself (not those it sees from [DEFAULT]).</summary>
    public IEnumerable<string> Keys(string section) => _sections.TryGetValue(section, out var s) ? s.Keys : [];

    /// <summary>The raw (uninterpolated) value, or null. DEFAULT values are visible from every section, as in oslo.</summary>
    string? Raw(string section, string key)
    {
        if (_sections.TryGetValue(section, out var s) && s.TryGetValue(key, out var v)) return v[^1];
        if (section != "DEFAULT" && _sections.TryGetValue("DEFAULT", out var d) && d.TryGetValue(key, out var dv)) return dv[^1];
        return null;
    }

    public string? GetString(string section, string key, string? fallback = null)
    {
        var raw = Raw(section, key);
        return raw is null ? fallback : Interpolate(section, key, raw, 0);
    }

    public string GetRequired(string section, string key) =>
        GetString(section, key) is { Length: > 0 } v ? v : throw new ConfigException(Path, section, key, "is required but not set");

    public int GetInt(string section, string key, int fallback)
    {
        var v = GetInt64(section, key, fallback);
        return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw new ConfigException(Path, section, key, $"'{v}' is out of range");
    }

    public long GetInt64(string section, string key, long fallback)
    {
        var v = GetString(section, key);
        if (string.IsNullOrEmpty(v)) return fallback;
        return long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i)
            ? i
            : throw new ConfigException(Path, section, key, $"'{v}' is not an integer");
    }

    public bool GetBool(string section, string key, bool fallback)
    {
        var v = GetString(section, key);
        if (string.IsNullOrEmpty(v)) return fallback;
        return v.ToLowerInvariant() switch
        {
            "true" or "yes" or "on" or "1" => true,
            "false" or "no" or "off" or "0" => false,
            _ => throw new ConfigException(Path, section, key, $"'{v}' is not a boolean (true/false)"),
        };
    }

    /// <summary>A comma-separated list option, as oslo's ListOpt.</summary>
    public IReadOnlyList<string> GetList(string section, string key) =>
        (GetString(section, key) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Every value given for a key (oslo's MultiStrOpt).</summary>
    public IReadOnlyList<string> GetMulti(string section, string key) =>
        _sections.TryGetValue(section, out var s) && s.TryGetValue(key, out var v)
            ? v.Select(x => Interpolate(section, key, x, 0)).ToList()
            : [];

    string Interpolate(string section, string key, string value, int depth)
    {
        if (!value.Contains('$', StringComparison.Ordinal)) return value;
        if (depth > 10)
            throw new ConfigException(Path, section, key, "interpolation is too deep (a reference loop?)");
        return Reference().Replace(value, m =>
        {
            if (m.Value == "$$") return "$";
            var name = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
            var raw = Raw(section, name)
                ?? throw new ConfigException(Path, section, key, $"refers to ${name}, which is not set");
            return Interpolate(section, name, raw, depth + 1);
        });
    }

    [GeneratedRegex(@"\$\$|\$\{([A-Za-z0-9_.]+)\}|\$([A-Za-z0-9_]+)")]
    private static partial Regex Reference();

    /// <summary>Writes sections back in oslo's format (used by <c>node init</c>).</summary>
    public static string Format(IEnumerable<(string Section, IEnumerable<(string Key, string Value)> Items)> sections)
    {
        var sb = new StringBuilder();
        foreach (var (name, items) in sections)
        {
            sb.Append('[').Append(name).Append("]\n");
            foreach (var (k, v) in items) sb.Append(k).Append(" = ").Append(v).Append('\n');
            sb.Append('\n');
        }
        return sb.ToString();
    }
}

/// <summary>A configuration error that names the file, section and key an operator must fix.</summary>
public sealed class ConfigException(string path, string? section, string? key, string problem)
    : Exception(section is null ? $"{path}: {problem}" : $"{path}: [{section}] {key}: {problem}");
