using Stratus.Core.Config;
using Stratus.Core.Policy;

namespace Stratus.Core.Tests.Policy;

public class PolicyOptionsTests
{
    [Theory]
    [InlineData("", "/etc/nova/policy.yaml")]
    [InlineData("[oslo_policy]\npolicy_file = rules.yaml\n", "/etc/nova/rules.yaml")]
    [InlineData("[oslo_policy]\npolicy_file = /srv/policy/nova.yaml\n", "/srv/policy/nova.yaml")]
    public void Policy_file_is_beside_the_config_file_unless_absolute(string conf, string expected) =>
        Assert.Equal(expected, PolicyOptions.FileOf(IniFile.Parse(conf, "/etc/nova/nova.conf")));
}
