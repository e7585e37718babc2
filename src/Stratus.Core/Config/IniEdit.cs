namespace Stratus.Core.Config;

/// <summary>
/// Changes the values of an INI file's text where they are, keeping every other line as the operator left it:
/// comments, blank lines, order, spacing around <c>=</c>. What <c>region join</c> does to a node's files.
/// </summary>
public static class IniEdit
{
    /// <summary>One <c>key = value</c> line: its section, key and (unquoted) value.</summary>
    public sealed record Entry(string Section, string Key, string Value);

    /// <summary>
    /// Gives each <c>key = value</c> line to <paramref name="rewrite"/> with the file as parsed (to look at the
    /// rest of its section); a non-null answer replaces the value on that line. Continuation lines are kept as they are.
    /// </summary>
    public static string Rewrite(string text, Func<IniFile, Entry, string?> rewrite)
    {
        var ini = IniFile.Parse(text);
        var lines = text.Split('\n');
        var section = "";
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var trimmed = line.TrimStart();
            if (trimmed.Length == 0 || trimmed[0] is '#' or ';' || char.IsWhiteSpace(line[0])) continue;
            if (trimmed[0] == '[')
            {
                section = trimmed[1..trimmed.IndexOf(']', StringComparison.Ordinal)].Trim();
                continue;
            }
            var sep = trimmed.IndexOfAny(['=', ':']);
            var key = trimmed[..sep].Trim();
            var value = trimmed[(sep + 1)..].Trim();
            if (value.Length >= 2 && value[0] == value[^1] && value[0] is '"' or '\'') value = value[1..^1];
            if (rewrite(ini, new Entry(section, key, value)) is not { } replacement || replacement == value) continue;
            // Keep the key and the spacing after the separator as written.
            var rest = trimmed[(sep + 1)..];
            var space = rest[..(rest.Length - rest.TrimStart().Length)];
            lines[i] = line[..(line.Length - trimmed.Length)] + trimmed[..(sep + 1)] + space + replacement + (lines[i].EndsWith('\r') ? "\r" : "");
        }
        return string.Join('\n', lines);
    }

    /// <summary>
    /// Sets a key of a section: the value of its line where it is, else a new line at the end of the section
    /// (after its last key), else a new section at the end of the file.
    /// </summary>
    public static string Set(string text, string section, string key, string value)
    {
        if (IniFile.Parse(text).Keys(section).Contains(key))
            return Rewrite(text, (_, e) => e.Section == section && e.Key == key ? value : null);
        var lines = text.Split('\n').ToList();
        int? lastKey = null;
        var current = "";
        for (var i = 0; i < lines.Count; i++)
        {
            var trimmed = lines[i].Trim();
            if (trimmed.StartsWith('['))
            {
                current = trimmed[1..trimmed.IndexOf(']', StringComparison.Ordinal)].Trim();
                if (current == section) lastKey ??= i;
            }
            else if (current == section && trimmed.Length > 0 && trimmed[0] is not '#' and not ';') lastKey = i;
        }
        var line = $"{key} = {value}";
        if (lastKey is { } at)
        {
            lines.Insert(at + 1, line);
            return string.Join('\n', lines);
        }
        var end = text.Length == 0 || text.EndsWith('\n') ? "" : "\n";
        return text + end + (text.Length == 0 ? "" : "\n") + $"[{section}]\n{line}\n";
    }
}
