using Stratus.Core.Policy;

namespace Stratus.BlockStorage.Policy;

/// <summary>Cinder's default rules (policy.defaults.yaml, embedded), overridable by a policy.yaml, and Cinder's refusal.</summary>
static class CinderPolicy
{
    public static PolicyOptions Options(string? policyFile) => new()
    {
        DefaultRules = PolicyEngine.EmbeddedDefaults(typeof(CinderPolicy).Assembly, "Stratus.BlockStorage.Policy.policy.defaults.yaml"),
        PolicyFile = policyFile,
        DeniedMessage = rule => $"Policy doesn't allow {rule} to be performed.",
        // Cinder's admin rules ask is_admin_project, which keystonemiddleware sets True when no admin project is configured.
        Credentials = http =>
        {
            var c = http.Caller().Credentials;
            return new PolicyCredentials { Roles = c.Roles, Fields = new Dictionary<string, string?>(c.Fields) { ["is_admin_project"] = "True" } };
        },
    };
}
