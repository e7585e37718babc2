using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Network.Api;

namespace Stratus.Network.Policy;

/// <summary>
/// Neutron's policy as its API applies it: a rule per action (<c>create_network</c>) and, where the
/// defaults define one, per attribute (<c>create_network:shared</c>, <c>get_port:binding:host_id</c>).
/// The target is the resource as the API shows it, with its network's owner (<c>network:tenant_id</c>).
/// A resource the caller may not see is not found; one it may see but not change is forbidden.
/// </summary>
static class NeutronPolicy
{
    public static PolicyOptions Options(string? policyFile) => new()
    {
        DefaultRules = PolicyEngine.EmbeddedDefaults(typeof(NeutronPolicy).Assembly, "Stratus.Network.Policy.policy.defaults.yaml"),
        PolicyFile = policyFile,
        DeniedMessage = rule => $"({rule}) is disallowed by policy",
    };

    /// <summary>The policy target of a resource: its view's scalar attributes, and its network's owner and flags.</summary>
    public static PolicyTarget Target(JsonObject view, NetworkRow? network = null) => new(view, network);

    static PolicyEnforcer Enforcer(HttpContext http) => http.RequestServices.GetRequiredService<PolicyEnforcer>();

    static bool Allowed(HttpContext http, string rule, IReadOnlyDictionary<string, string?> target) =>
        Enforcer(http).Engine.IsAllowed(rule, http.Caller().Credentials, target);

    public static bool CanSee(HttpContext http, string resource, IReadOnlyDictionary<string, string?> target) =>
        Allowed(http, "get_" + resource, target);

    /// <summary>
    /// <c>create_x</c> or <c>update_x</c> and the rule of each attribute the body sets (on create: to
    /// something other than its default), as Neutron's policy engine checks them; 403 PolicyNotAuthorized.
    /// </summary>
    public static void Enforce(HttpContext http, string action, string resource, JsonObject body,
        IReadOnlyDictionary<string, string?> target, IReadOnlyDictionary<string, JsonNode?>? defaults = null)
    {
        var rule = $"{action}_{resource}";
        if (!Allowed(http, rule, target)) throw NeutronErrors.PolicyNotAuthorized(rule);
        var engine = Enforcer(http).Engine;
        foreach (var (attr, value) in body)
        {
            if (action == "create" && defaults is not null && defaults.TryGetValue(attr, out var d) && JsonNode.DeepEquals(d, value)) continue;
            var attrRule = $"{rule}:{attr}";
            if (engine.Defines(attrRule) && !Allowed(http, attrRule, target)) throw NeutronErrors.PolicyNotAuthorized(attrRule);
            // Sub-attributes of a list of objects: fixed_ips:ip_address, allowed_address_pairs:mac_address.
            foreach (var item in (value as JsonArray ?? []).OfType<JsonObject>())
                foreach (var (sub, _) in item)
                {
                    var subRule = $"{attrRule}:{sub}";
                    if (engine.Defines(subRule) && !Allowed(http, subRule, target)) throw NeutronErrors.PolicyNotAuthorized(subRule);
                }
        }
    }

    /// <summary>Enforces an action without a body (<c>delete_network</c>, <c>add_router_interface</c>).</summary>
    public static void Enforce(HttpContext http, string rule, IReadOnlyDictionary<string, string?> target)
    {
        if (!Allowed(http, rule, target)) throw NeutronErrors.PolicyNotAuthorized(rule);
    }

    /// <summary>The view without the attributes whose <c>get_x:attr</c> rule refuses the caller (binding:*, provider:*).</summary>
    public static JsonObject Visible(HttpContext http, string resource, JsonObject view, IReadOnlyDictionary<string, string?> target)
    {
        // Every rule sees the whole view (the target may read it): the refused attributes go after.
        List<string>? refused = null;
        foreach (var (rule, attribute) in Enforcer(http).Engine.AttributeRules("get_" + resource))
            if (view.ContainsKey(attribute) && !Allowed(http, rule, target)) (refused ??= []).Add(attribute);
        foreach (var attribute in refused ?? []) view.Remove(attribute);
        return view;
    }
}

/// <summary>
/// A policy target read from a resource's view when a rule asks (a list checks every resource it shows): the view's
/// scalar attributes as oslo.policy sees them ("True", "False", numbers as JSON), its network's owner
/// (<c>network:tenant_id</c>) and, unless the view has its own, the network's <c>shared</c> and <c>router:external</c>.
/// Values set here (a create's project) take precedence.
/// </summary>
sealed class PolicyTarget(JsonObject view, NetworkRow? network) : IReadOnlyDictionary<string, string?>
{
    Dictionary<string, string?>? _set;

    public string? this[string key]
    {
        get => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException(key);
        set => (_set ??= new(StringComparer.Ordinal))[key] = value;
    }

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string? value)
    {
        if (_set is not null && _set.TryGetValue(key, out value)) return true;
        // A subnet or port of a shared or external network is visible as its network is (rule:shared, rule:external).
        switch (key)
        {
            case "network:tenant_id" or "network:project_id" when network is not null:
                value = network.ProjectId;
                return true;
            case "shared" when network is not null && !view.ContainsKey(key):
                value = network.Shared ? "True" : "False";
                return true;
            case "router:external" when network is not null && !view.ContainsKey(key):
                value = network.External ? "True" : "False";
                return true;
        }
        if (view.TryGetPropertyValue(key, out var node) && node is JsonValue scalar)
        {
            value = Scalar(scalar);
            return true;
        }
        value = null;
        return false;
    }

    static string? Scalar(JsonValue v) => v.GetValueKind() switch
    {
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        JsonValueKind.String => v.GetValue<string>(),
        JsonValueKind.Null => null,
        _ => v.ToJsonString(),
    };

    Dictionary<string, string?> All()
    {
        var all = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var key in view.Select(p => p.Key).Concat(network is null ? [] : ["network:tenant_id", "network:project_id", "shared", "router:external"]).Concat(_set?.Keys.AsEnumerable() ?? []))
            if (TryGetValue(key, out var v)) all[key] = v;
        return all;
    }

    public bool ContainsKey(string key) => TryGetValue(key, out _);
    public IEnumerable<string> Keys => All().Keys;
    public IEnumerable<string?> Values => All().Values;
    public int Count => All().Count;
    public IEnumerator<KeyValuePair<string, string?>> GetEnumerator() => All().GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
