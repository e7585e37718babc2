using Stratus.Core.Policy;
using Stratus.Identity.Policy;

namespace Stratus.Identity.Tests.Policy;

/// <summary>The oslo.policy language over Keystone's default rules, and operator overrides.</summary>
public class PolicyEngineTests
{
    static PolicyCredentials Creds(string[] roles, string? userId = "u1", string? projectId = null, string? domainId = null, bool system = false) => new()
    {
        Roles = roles.Select(r => r.ToLowerInvariant()).ToHashSet(),
        Fields = new Dictionary<string, string?>
        {
            ["user_id"] = userId,
            ["project_id"] = projectId,
            ["domain_id"] = domainId,
            ["system_scope"] = system ? "all" : null,
            ["token.domain.id"] = domainId,
        },
    };

    static PolicyEngine Keystone(string? policyFile = null) => new PolicyEnforcer(KeystonePolicy.Options(policyFile)).Engine;

    readonly PolicyEngine _defaults = Keystone();

    [Fact]
    public void Admin_passes_admin_rules_and_members_do_not()
    {
        Assert.True(_defaults.IsAllowed("identity:create_region", Creds(["admin"], projectId: "p")));
        Assert.False(_defaults.IsAllowed("identity:create_region", Creds(["member", "reader"], projectId: "p")));
        Assert.True(_defaults.IsAllowed("identity:get_region", Creds([]))); // "" means any authenticated caller
    }

    [Fact]
    public void Owner_rules_substitute_the_target()
    {
        var member = Creds(["member"], userId: "alice", projectId: "p");
        Assert.True(_defaults.IsAllowed("identity:get_user", member, new Dictionary<string, string?> { ["target.user.id"] = "alice" }));
        Assert.False(_defaults.IsAllowed("identity:get_user", member, new Dictionary<string, string?> { ["target.user.id"] = "bob" }));
        Assert.False(_defaults.IsAllowed("identity:get_user", member)); // no target: no owner match
    }

    [Fact]
    public void System_and_domain_readers_follow_scope()
    {
        var systemReader = Creds(["reader"], system: true);
        var domainReader = Creds(["reader"], domainId: "d1");
        var target = new Dictionary<string, string?> { ["target.user.id"] = "x", ["target.user.domain_id"] = "d1" };
        Assert.True(_defaults.IsAllowed("identity:get_user", systemReader, target));
        Assert.True(_defaults.IsAllowed("identity:get_user", domainReader, target));
        Assert.False(_defaults.IsAllowed("identity:get_user", Creds(["reader"], domainId: "d2"), target));
    }

    [Fact]
    public void Unknown_rules_fall_back_to_admin_only()
    {
        Assert.True(_defaults.IsAllowed("identity:no_such_rule", Creds(["Admin"])));
        Assert.False(_defaults.IsAllowed("identity:no_such_rule", Creds(["member"])));
    }

    [Fact]
    public void Operator_policy_file_overrides_single_rules()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, """
            # An operator's policy.yaml: comments, quoted names, any rule language.
            "identity:create_region": "role:member and not role:banned"
            "identity:delete_region": "!"
            "identity:update_region": "(role:a or role:b) and user_id:%(target.owner)s"
            """);
        try
        {
            var engine = Keystone(path);
            Assert.True(engine.IsAllowed("identity:create_region", Creds(["member"])));
            Assert.False(engine.IsAllowed("identity:create_region", Creds(["member", "banned"])));
            Assert.False(engine.IsAllowed("identity:delete_region", Creds(["admin"])));
            var target = new Dictionary<string, string?> { ["target.owner"] = "u1" };
            Assert.True(engine.IsAllowed("identity:update_region", Creds(["b"]), target));
            Assert.False(engine.IsAllowed("identity:update_region", Creds(["c"]), target));
            Assert.False(engine.IsAllowed("identity:update_region", Creds(["a"], userId: "u2"), target));
            // Rules not overridden keep Keystone's defaults.
            Assert.False(engine.IsAllowed("identity:create_service", Creds(["member"])));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void None_check_holds_only_for_unset_target_attributes()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "\"x\": \"None:%(target.role.domain_id)s\"\n");
        try
        {
            var engine = Keystone(path);
            Assert.True(engine.IsAllowed("x", Creds([]), new Dictionary<string, string?> { ["target.role.domain_id"] = null }));
            Assert.False(engine.IsAllowed("x", Creds([]), new Dictionary<string, string?> { ["target.role.domain_id"] = "d" }));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
