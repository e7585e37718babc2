using Stratus.Core.Policy;

namespace Stratus.Compute.Policy;

/// <summary>Nova's default rules (policy.defaults.yaml, embedded), overridable by a policy.yaml, and Nova's refusal.</summary>
static class NovaPolicy
{
    public static PolicyOptions Options(string? policyFile) => new()
    {
        DefaultRules = PolicyEngine.EmbeddedDefaults(typeof(NovaPolicy).Assembly, "Stratus.Compute.Policy.policy.defaults.yaml"),
        PolicyFile = policyFile,
        DeniedMessage = rule => $"Policy doesn't allow {rule} to be performed.",
    };
}
