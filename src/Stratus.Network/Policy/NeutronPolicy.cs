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
    public static Dictionary<string, string?> Target(JsonObject view, NetworkRow? network = null)
    {
        var t = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (k, v) in view)
            if (v is JsonValue value) t[k] = Scalar(value);
        if (network is not null)
        {
            t["network:tenant_id"] = network.ProjectId;
            t["network:project_id"] = network.ProjectId;
            // A subnet or port of a shared or external network is visible as its network is (rule:shared, rule:external).
            if (!view.ContainsKey("shared")) t["shared"] = network.Shared ? "True" : "False";
            if (!view.ContainsKey("router:external")) t["router:external"] = network.External ? "True" : "False";
        }
        return t;
    }

    static string? Scalar(JsonValue v) => v.GetValueKind() switch
    {
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        JsonValueKind.String => v.GetValue<string>(),
        JsonValueKind.Null => null,
        _ => v.ToJsonString(),
    };

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
        var engine = Enforcer(http).Engine;
        foreach (var key in view.Select(p => p.Key).ToList())
        {
            var rule = $"get_{resource}:{key}";
            if (engine.Defines(rule) && !Allowed(http, rule, target)) view.Remove(key);
        }
        return view;
    }
}
