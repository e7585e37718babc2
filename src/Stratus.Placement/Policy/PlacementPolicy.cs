using Stratus.Core.Policy;

namespace Stratus.Placement.Policy;

/// <summary>Placement's default rules (policy.defaults.yaml, embedded), overridable by a policy.yaml, and Placement's refusal.</summary>
static class PlacementPolicy
{
    public static PolicyOptions Options(string? policyFile) => new()
    {
        DefaultRules = PolicyEngine.EmbeddedDefaults(typeof(PlacementPolicy).Assembly, "Stratus.Placement.Policy.policy.defaults.yaml"),
        PolicyFile = policyFile,
        DeniedMessage = rule => $"Policy does not allow {rule} to be performed.",
    };
}
