namespace Stratus.Cli;

/// <summary>A verb's arguments: <c>--name value</c> / <c>--name=value</c> options (an option given twice keeps both) and positional words.</summary>
sealed class CliArgs
{
    readonly Dictionary<string, List<string?>> _options = new(StringComparer.Ordinal);
    readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public List<string> Positional { get; } = [];

    public CliArgs(IEnumerable<string> args, params string[] flags)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) { Positional.Add(a); continue; }
            var eq = a.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0) { Add(a[2..eq], a[(eq + 1)..]); continue; }
            var name = a[2..];
            if (flags.Contains(name) || i + 1 >= list.Count || list[i + 1].StartsWith("--", StringComparison.Ordinal))
                Add(name, null);
            else
                Add(name, list[++i]);
        }
    }

    void Add(string name, string? value)
    {
        if (!_options.TryGetValue(name, out var values)) _options[name] = values = [];
        values.Add(value);
    }

    /// <summary>The option's value; the last one when it is given several times.</summary>
    public string? Get(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var v) ? v[^1] : null;
    }

    /// <summary>Every value of an option that may be repeated.</summary>
    public IReadOnlyList<string> GetAll(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var v) ? [.. v.OfType<string>()] : [];
    }

    public string Required(string name) =>
        Get(name) ?? throw new UsageException($"--{name} is required");

    public bool Flag(string name)
    {
        _read.Add(name);
        return _options.ContainsKey(name);
    }

    /// <summary>Rejects options nobody asked for, so a typo is an error and not silently ignored.</summary>
    public void EnsureAllUsed()
    {
        var unknown = _options.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option --{unknown[0]}");
    }
}

sealed class UsageException(string message) : Exception(message);
