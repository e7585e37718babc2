using Stratus.Core.Policy;

namespace Stratus.Identity.Policy;

/// <summary>Keystone's default rules (policy.defaults.yaml, embedded), overridable by a policy.yaml.</summary>
public static class KeystonePolicy
{
    public static PolicyEngine Create(string? overridePath = null) =>
        new(PolicyEngine.EmbeddedDefaults(typeof(KeystonePolicy).Assembly, "Stratus.Identity.Policy.policy.defaults.yaml"),
            overridePath, fallbackRule: "admin_required");
}
