using Microsoft.AspNetCore.Http;
using Stratus.Core.Http;

namespace Stratus.Core.Policy;

/// <summary>A service's policy: its engine, asked about the caller of a request.</summary>
public sealed class PolicyEnforcer(PolicyOptions options)
{
    public PolicyEngine Engine { get; } = new(options.DefaultRules, options.PolicyFile, options.FallbackRule);

    public bool IsAllowed(HttpContext http, string rule, IReadOnlyDictionary<string, string?>? target = null)
    {
        var creds = options.Credentials(http);
        return Engine.IsAllowed(rule, creds, target ?? DefaultTarget(creds));
    }

    /// <summary>Throws 403, in the service's words, unless the rule allows the caller on this target (401 without a caller).</summary>
    public void Enforce(HttpContext http, string rule, IReadOnlyDictionary<string, string?>? target = null)
    {
        if (!IsAllowed(http, rule, target)) throw OpenStackError.Forbidden(options.DeniedMessage(rule));
    }

    Dictionary<string, string?>? DefaultTarget(PolicyCredentials creds) => options.CallerIsDefaultTarget
        ? new(StringComparer.Ordinal)
        {
            ["project_id"] = creds.Fields.GetValueOrDefault("project_id"),
            ["user_id"] = creds.Fields.GetValueOrDefault("user_id"),
        }
        : null;
}
