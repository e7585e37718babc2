using CsCheck;
using Stratus.Core.Config;

namespace Stratus.Core.Tests.Config;

public class IniEditTests
{
    const string Glance = """
        # glance-api.conf, as an operator left it
        [DEFAULT]
        bind_host = 172.16.3.72

        [keystone_authtoken]
        ; the shared identity
        auth_url=http://172.16.3.72:5000
        username = "glance"
        region_name = RegionOne
          continued = line

        [paste_deploy]
        flavor = keystone
        """;

    [Fact]
    public void Rewrite_changes_only_the_values_asked_and_keeps_comments_spacing_and_order()
    {
        var edited = IniEdit.Rewrite(Glance, (_, e) => e switch
        {
            { Section: "keystone_authtoken", Key: "auth_url" } => "http://172.16.2.72:5000",
            { Key: "username" } => e.Value + "-RegionTwo",
            { Key: "region_name", Value: "RegionOne" } => "RegionTwo",
            _ => null,
        });
        Assert.Equal(Glance
            .Replace("auth_url=http://172.16.3.72:5000", "auth_url=http://172.16.2.72:5000")
            .Replace("username = \"glance\"", "username = glance-RegionTwo")
            .Replace("region_name = RegionOne", "region_name = RegionTwo"), edited);
        var ini = IniFile.Parse(edited);
        Assert.Equal("172.16.3.72", ini.GetString("DEFAULT", "bind_host"));
        Assert.Equal("glance-RegionTwo", ini.GetString("keystone_authtoken", "username"));
    }

    [Fact]
    public void Rewrite_sees_the_rest_of_the_section()
    {
        var edited = IniEdit.Rewrite("[a]\nusername = x\nauth_url = u\n[b]\nusername = x\n",
            (ini, e) => e.Key == "username" && ini.GetString(e.Section, "auth_url") is not null ? "y" : null);
        Assert.Equal("[a]\nusername = y\nauth_url = u\n[b]\nusername = x\n", edited);
    }

    [Fact]
    public void Set_replaces_a_key_or_adds_it_after_the_sections_last_key_or_adds_the_section()
    {
        Assert.Equal(Glance.Replace("flavor = keystone", "flavor = none"), IniEdit.Set(Glance, "paste_deploy", "flavor", "none"));
        var added = IniEdit.Set(Glance, "DEFAULT", "debug", "true");
        Assert.Equal(Glance.Replace("bind_host = 172.16.3.72\n", "bind_host = 172.16.3.72\ndebug = true\n"), added);
        var section = IniEdit.Set(Glance, "dashboard", "root_redirect", "http://x/dashboard");
        Assert.StartsWith(Glance, section);
        Assert.Equal("http://x/dashboard", IniFile.Parse(section).GetString("dashboard", "root_redirect"));
    }

    [Fact]
    public void Set_then_parse_gives_the_value_and_keeps_every_other_key()
    {
        var keys = Gen.String[Gen.Char['a', 'z'], 1, 8];
        Gen.Select(Gen.Dictionary(keys, keys)[0, 6], Gen.OneOf("DEFAULT", "keystone_authtoken", "new"), keys, keys)
            .Sample((existing, section, key, value) =>
            {
                var text = "[DEFAULT]\n" + string.Concat(existing.Select(p => $"{p.Key} = {p.Value}\n")) + "\n[keystone_authtoken]\n# note\n";
                var ini = IniFile.Parse(IniEdit.Set(text, section, key, value));
                Assert.Equal(value, ini.GetString(section, key));
                foreach (var (k, v) in existing.Select(p => (p.Key, p.Value)))
                    if (section != "DEFAULT" || k != key) Assert.Equal(v, ini.GetString("DEFAULT", k));
            });
    }
}
