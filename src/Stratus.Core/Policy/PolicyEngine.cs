using System.Collections.Concurrent;

namespace Stratus.Core.Policy;

/// <summary>
/// Evaluates oslo.policy rule strings (<c>role:admin or (role:reader and system_scope:all) or
/// user_id:%(target.user.id)s</c>) against a caller's credentials and a target. Each service brings
/// its own defaults (the rules of the OpenStack service it implements); a <c>policy.yaml</c> beside the
/// service's config file overrides single rules, as in OpenStack.
/// </summary>
public sealed class PolicyEngine
{
    readonly Dictionary<string, Rule> _rules = new(StringComparer.Ordinal);
    readonly string _fallbackRule;

    /// <param name="defaultsYaml">The service's default rules, in policy.yaml syntax.</param>
    /// <param name="overridePath">An operator's policy.yaml; missing is fine.</param>
    /// <param name="fallbackRule">The rule that decides names nobody defined (Keystone: admin_required).</param>
    public PolicyEngine(string defaultsYaml, string? overridePath = null, string fallbackRule = "default")
    {
        _fallbackRule = fallbackRule;
        Load(defaultsYaml);
        if (overridePath is not null && File.Exists(overridePath)) Load(File.ReadAllText(overridePath));
    }

    /// <summary>Reads a policy.defaults.yaml embedded in the calling service's assembly.</summary>
    public static string EmbeddedDefaults(System.Reflection.Assembly assembly, string resourceName)
    {
        using var s = assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"embedded policy defaults {resourceName} are missing");
        return new StreamReader(s).ReadToEnd();
    }

    void Load(string yaml)
    {
        foreach (var raw in yaml.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var colon = FindKeyEnd(line);
            if (colon < 0) continue;
            var name = line[..colon].Trim().Trim('"', '\'');
            var value = line[(colon + 1)..].Trim();
            if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0]) value = value[1..^1];
            _rules[name] = RuleParser.Parse(value);
        }
    }

    static int FindKeyEnd(string line)
    {
        if (line[0] is '"' or '\'')
        {
            var end = line.IndexOf(line[0], 1);
            return end < 0 ? -1 : line.IndexOf(':', end);
        }
        return line.IndexOf(':', StringComparison.Ordinal);
    }

    public bool IsAllowed(string rule, PolicyCredentials creds, IReadOnlyDictionary<string, string?>? target = null)
    {
        // An unknown rule falls back to the service's default rule (oslo.policy's "default").
        var r = _rules.TryGetValue(rule, out var found) ? found : _rules.GetValueOrDefault(_fallbackRule) ?? Rule.False;
        return r.Eval(new EvalContext(this, creds, target ?? EmptyTarget));
    }

    static readonly Dictionary<string, string?> EmptyTarget = [];

    /// <summary>Whether the defaults or the operator define this rule (Neutron checks an attribute's rule only where one exists).</summary>
    public bool Defines(string rule) => _rules.ContainsKey(rule);

    readonly ConcurrentDictionary<string, (string Rule, string Attribute)[]> _attributeRules = new(StringComparer.Ordinal);

    /// <summary>The attribute rules of an action (<c>get_port</c>: <c>get_port:binding:host_id</c> for <c>binding:host_id</c>...).</summary>
    public IReadOnlyList<(string Rule, string Attribute)> AttributeRules(string action) =>
        _attributeRules.GetOrAdd(action, a => [.. _rules.Keys.Where(k => k.Length > a.Length + 1 && k.StartsWith(a, StringComparison.Ordinal) && k[a.Length] == ':')
            .Select(k => (k, k[(a.Length + 1)..]))]);

    internal Rule? Named(string name) => _rules.GetValueOrDefault(name);

    internal sealed record EvalContext(PolicyEngine Engine, PolicyCredentials Creds, IReadOnlyDictionary<string, string?> Target);
}

/// <summary>What policy checks see of the caller: the flattened fields oslo.policy checks match against.</summary>
public sealed class PolicyCredentials
{
    public required IReadOnlySet<string> Roles { get; init; }
    /// <summary>user_id, project_id, domain_id, system_scope, token.domain.id, token.project.domain.id ...</summary>
    public required IReadOnlyDictionary<string, string?> Fields { get; init; }
}

abstract class Rule
{
    public static readonly Rule True = new Const(true);
    public static readonly Rule False = new Const(false);

    public abstract bool Eval(PolicyEngine.EvalContext c);

    sealed class Const(bool v) : Rule { public override bool Eval(PolicyEngine.EvalContext c) => v; }

    public sealed class And(List<Rule> rules) : Rule
    {
        public override bool Eval(PolicyEngine.EvalContext c) => rules.TrueForAll(r => r.Eval(c));
    }

    public sealed class Or(List<Rule> rules) : Rule
    {
        public override bool Eval(PolicyEngine.EvalContext c) => rules.Exists(r => r.Eval(c));
    }

    public sealed class Not(Rule rule) : Rule
    {
        public override bool Eval(PolicyEngine.EvalContext c) => !rule.Eval(c);
    }

    public sealed class Check(string kind, string match) : Rule
    {
        public override bool Eval(PolicyEngine.EvalContext c)
        {
            switch (kind)
            {
                case "rule":
                    return c.Engine.Named(match)?.Eval(c) ?? false;
                case "role":
                    return c.Creds.Roles.Contains(match.ToLowerInvariant());
                case "field":
                    return FieldCheck(c, match);
                default:
                    {
                        // Generic check: credential field == literal or %(target.x)s substitution.
                        string? want;
                        if (match.StartsWith("%(", StringComparison.Ordinal) && match.EndsWith(")s", StringComparison.Ordinal))
                        {
                            var key = match[2..^2];
                            // "None:%(target.x)s" holds when the target attribute is unset (oslo compares literals).
                            if (kind == "None") return !c.Target.TryGetValue(key, out var v) || v is null;
                            if (!c.Target.TryGetValue(key, out want) || want is null) return false;
                        }
                        else want = match.Trim('\'', '"');
                        if (kind == "is_admin") return want is "1" or "True" or "true" && c.Creds.Fields.GetValueOrDefault("is_admin") == "true";
                        // "'public':%(visibility)s": a quoted literal on the left is compared as it is.
                        var have = kind.Length >= 2 && kind[0] is '\'' or '"' && kind[^1] == kind[0]
                            ? kind[1..^1]
                            : c.Creds.Fields.GetValueOrDefault(kind);
                        return have is not null && string.Equals(have, want, StringComparison.Ordinal);
                    }
            }
        }

        /// <summary>
        /// Neutron's <c>field:networks:shared=True</c> and <c>field:port:device_owner=~^network:</c>: the
        /// target's attribute equals the value (or matches the regular expression after <c>=~</c>).
        /// </summary>
        static bool FieldCheck(PolicyEngine.EvalContext c, string match)
        {
            var colon = match.IndexOf(':');
            var eq = match.IndexOf('=');
            if (colon < 0 || eq < colon) return false;
            var field = match[(colon + 1)..eq];
            if (!c.Target.TryGetValue(field, out var have) || have is null) return false;
            return match.Length > eq + 1 && match[eq + 1] == '~'
                ? System.Text.RegularExpressions.Regex.IsMatch(have, match[(eq + 2)..])
                : string.Equals(have, match[(eq + 1)..], StringComparison.OrdinalIgnoreCase);
        }
    }
}

/// <summary>Recursive-descent parser for the oslo.policy language: or, and, not, parentheses, @, !.</summary>
static class RuleParser
{
    public static Rule Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return Rule.True;
        var tokens = Tokenize(text);
        var pos = 0;
        var rule = ParseOr(tokens, ref pos);
        if (pos != tokens.Count) throw new FormatException($"unexpected '{tokens[pos]}' in policy rule '{text}'");
        return rule;
    }

    static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            var ch = text[i];
            if (char.IsWhiteSpace(ch)) { i++; continue; }
            if (ch is '(' or ')') { tokens.Add(ch.ToString()); i++; continue; }
            var start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] != ')' && !(text[i] == '(' && i == start)) i++;
            // A check's match may itself contain "%(" ... ")s": keep it whole.
            var tok = text[start..i];
            if (tok.Contains("%(", StringComparison.Ordinal) && !tok.Contains(")s", StringComparison.Ordinal))
            {
                var close = text.IndexOf(")s", i, StringComparison.Ordinal);
                if (close >= 0) { i = close + 2; tok = text[start..i]; }
            }
            tokens.Add(tok);
        }
        return tokens;
    }

    static Rule ParseOr(List<string> t, ref int pos)
    {
        var list = new List<Rule> { ParseAnd(t, ref pos) };
        while (pos < t.Count && t[pos] == "or") { pos++; list.Add(ParseAnd(t, ref pos)); }
        return list.Count == 1 ? list[0] : new Rule.Or(list);
    }

    static Rule ParseAnd(List<string> t, ref int pos)
    {
        var list = new List<Rule> { ParseNot(t, ref pos) };
        while (pos < t.Count && t[pos] == "and") { pos++; list.Add(ParseNot(t, ref pos)); }
        return list.Count == 1 ? list[0] : new Rule.And(list);
    }

    static Rule ParseNot(List<string> t, ref int pos)
    {
        if (pos < t.Count && t[pos] == "not") { pos++; return new Rule.Not(ParseNot(t, ref pos)); }
        return ParseAtom(t, ref pos);
    }

    static Rule ParseAtom(List<string> t, ref int pos)
    {
        if (pos >= t.Count) throw new FormatException("policy rule ends too early");
        var tok = t[pos++];
        if (tok == "(")
        {
            var inner = ParseOr(t, ref pos);
            if (pos >= t.Count || t[pos] != ")") throw new FormatException("missing ')' in policy rule");
            pos++;
            return inner;
        }
        if (tok == "@") return Rule.True;
        if (tok == "!") return Rule.False;
        var colon = tok.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0) throw new FormatException($"'{tok}' is not a policy check");
        return new Rule.Check(tok[..colon], tok[(colon + 1)..]);
    }
}
