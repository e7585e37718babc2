using Stratus.Core.Config;

namespace Stratus.Core.Tests.Config;

public class IniFileTests
{
    // As the seed writes glance-api.conf: comments, blank lines, keys the service does not model.
    const string SeedStyle = """
        [DEFAULT]
        my_ip = 172.16.3.72
        # a comment
        ; another comment
        [database]
        connection = mysql+pymysql://glance:Welcome123@$my_ip/glance

        [keystone_authtoken]
        www_authenticate_uri = http://172.16.2.72:5000
        auth_url = http://172.16.2.72:5000
        memcached_servers = ${my_ip}:11211
        auth_type = password
        region_name = "RegionTwo"
        some_unknown_key = kept
        multi_line = first
            second
        [glance_store]
        stores = file,http
        price = $$5
        """;

    [Fact]
    public void Reads_values_with_interpolation_from_DEFAULT()
    {
        var ini = IniFile.Parse(SeedStyle, "glance-api.conf");
        Assert.Equal("mysql+pymysql://glance:Welcome123@172.16.3.72/glance", ini.GetString("database", "connection"));
        Assert.Equal("172.16.3.72:11211", ini.GetString("keystone_authtoken", "memcached_servers"));
    }

    [Fact]
    public void Strips_quotes_keeps_unknown_keys_and_joins_continuations()
    {
        var ini = IniFile.Parse(SeedStyle);
        Assert.Equal("RegionTwo", ini.GetString("keystone_authtoken", "region_name"));
        Assert.Equal("kept", ini.GetString("keystone_authtoken", "some_unknown_key"));
        Assert.Equal("first\nsecond", ini.GetString("keystone_authtoken", "multi_line"));
        Assert.Equal(["file", "http"], ini.GetList("glance_store", "stores"));
        Assert.Equal("$5", ini.GetString("glance_store", "price"));
    }

    [Fact]
    public void Missing_keys_fall_back_to_defaults()
    {
        var ini = IniFile.Parse(SeedStyle);
        Assert.Null(ini.GetString("nope", "nothing"));
        Assert.Equal(42, ini.GetInt("database", "max_pool_size", 42));
        Assert.True(ini.GetBool("database", "sqlite_synchronous", true));
    }

    [Fact]
    public void Bad_value_error_names_file_section_and_key()
    {
        var ini = IniFile.Parse("[token]\nexpiration = soon\n[x]\nflag = maybe\n", "/etc/keystone/keystone.conf");
        var e = Assert.Throws<ConfigException>(() => ini.GetInt("token", "expiration", 3600));
        Assert.Contains("/etc/keystone/keystone.conf", e.Message);
        Assert.Contains("[token] expiration", e.Message);
        Assert.Contains("soon", e.Message);
        var b = Assert.Throws<ConfigException>(() => ini.GetBool("x", "flag", false));
        Assert.Contains("[x] flag", b.Message);
    }

    [Fact]
    public void Unknown_reference_and_loops_are_clear_errors()
    {
        var e = Assert.Throws<ConfigException>(() => IniFile.Parse("[a]\nx = $nope\n", "f.conf").GetString("a", "x"));
        Assert.Contains("$nope", e.Message);
        var loop = IniFile.Parse("[a]\nx = $y\ny = $x\n", "f.conf");
        Assert.Throws<ConfigException>(() => loop.GetString("a", "x"));
    }

    [Fact]
    public void Malformed_lines_are_rejected_with_the_line_number()
    {
        var e = Assert.Throws<ConfigException>(() => IniFile.Parse("[a]\njust words\n", "f.conf"));
        Assert.Contains("line 2", e.Message);
        Assert.Throws<ConfigException>(() => IniFile.Parse("x = 1\n", "f.conf"));
    }

    [Fact]
    public void Format_round_trips()
    {
        var text = IniFile.Format([("database", [("connection", "sqlite:////tmp/k.db")]), ("token", [("provider", "fernet")])]);
        var ini = IniFile.Parse(text);
        Assert.Equal("sqlite:////tmp/k.db", ini.GetString("database", "connection"));
        Assert.Equal("fernet", ini.GetString("token", "provider"));
    }
}
