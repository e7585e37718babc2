using Stratus.Core.Policy;

namespace Stratus.Image.Policy;

/// <summary>Glance's default rules (policy.defaults.yaml, embedded), overridable by a policy.yaml, and Glance's refusal.</summary>
static class GlancePolicy
{
    public static PolicyOptions Options(string? policyFile) => new()
    {
        DefaultRules = PolicyEngine.EmbeddedDefaults(typeof(GlancePolicy).Assembly, "Stratus.Image.Policy.policy.defaults.yaml"),
        PolicyFile = policyFile,
        DeniedMessage = rule => $"You are not authorized to complete {rule} action.",
    };
}
