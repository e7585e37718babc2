using Stratus.Identity.Api;

namespace Stratus.Identity.Policy;

/// <summary>Keystone's default rules (policy.defaults.yaml, embedded), overridable by a policy.yaml.</summary>
public static class KeystonePolicy
{
    public static PolicyOptions Options(string? policyFile = null) => new()
    {
        DefaultRules = PolicyEngine.EmbeddedDefaults(typeof(KeystonePolicy).Assembly, "Stratus.Identity.Policy.policy.defaults.yaml"),
        PolicyFile = policyFile,
        FallbackRule = "admin_required",
        DeniedMessage = rule => $"You are not authorized to perform the requested action: {rule}.",
        // The identity validates its own tokens: its caller is the token it decoded, not Core's Caller.
        Credentials = http => http.Caller().Credentials,
        CallerIsDefaultTarget = false,
    };
}
