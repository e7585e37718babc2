using Microsoft.AspNetCore.Http;
using Stratus.Core.Auth;
using Stratus.Core.Config;

namespace Stratus.Core.Policy;

/// <summary>
/// What a service brings to policy enforcement: its OpenStack project's default rules, the operator's
/// <c>[oslo_policy] policy_file</c>, how the caller appears to the rules, and how the service words a
/// refusal (each OpenStack service has its own 403 message).
/// </summary>
public sealed record PolicyOptions
{
    /// <summary>The default rules in policy.yaml syntax: the service's embedded policy.defaults.yaml.</summary>
    public required string DefaultRules { get; init; }

    /// <summary><c>[oslo_policy] policy_file</c>: an operator's overrides of single rules; missing is fine.</summary>
    public string? PolicyFile { get; init; }

    /// <summary>The rule that decides names nobody defined (oslo's <c>policy_default_rule</c>; Keystone: admin_required).</summary>
    public string FallbackRule { get; init; } = "default";

    /// <summary>The 403 message for a refused rule, in the service's own words.</summary>
    public required Func<string, string> DeniedMessage { get; init; }

    /// <summary>The caller's credentials; throws 401 when the request has no valid token.</summary>
    public Func<HttpContext, PolicyCredentials> Credentials { get; init; } = http => http.Caller().Credentials;

    /// <summary>
    /// oslo.context's <c>can()</c>: a rule checked without a target is checked against the caller's own
    /// project and user (Nova, Placement, Glance). Keystone's enforcer passes an empty target instead.
    /// </summary>
    public bool CallerIsDefaultTarget { get; init; } = true;

    /// <summary><c>[oslo_policy] policy_file</c> (default policy.yaml); a relative path is beside the config file, as oslo.config finds it.</summary>
    public static string FileOf(IniFile ini)
    {
        var file = ini.GetString("oslo_policy", "policy_file") ?? "policy.yaml";
        return Path.IsPathRooted(file) ? file : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(ini.Path)) ?? ".", file);
    }
}
