using Stratus.Core.Policy;

namespace Stratus.Core.Tests.Policy;

public sealed class PolicyEngineTests
{
    [Fact]
    public void An_actions_attribute_rules_are_those_named_after_it_and_a_colon_defaults_and_overrides_alike()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "\"get_port:binding:profile\": \"role:admin\"\n");
            var engine = new PolicyEngine("""
                "get_port": ""
                "get_port:binding:host_id": "role:admin"
                "get_ports_x": ""
                "get_portal:name": ""
                "get_network:provider:network_type": "role:admin"
                """, file);
            Assert.Equal([("get_port:binding:host_id", "binding:host_id"), ("get_port:binding:profile", "binding:profile")],
                engine.AttributeRules("get_port").OrderBy(r => r.Rule, StringComparer.Ordinal));
            Assert.Empty(engine.AttributeRules("get_subnet"));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
