using Stratus.Core.Config;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Tests;

/// <summary>local_settings as node init writes it, and the error bodies of each service as the pages show them.</summary>
public sealed class OptionsTests
{
    [Fact]
    public void The_identity_node_serves_the_dashboard_and_another_region_only_redirects()
    {
        var serve = DashboardOptions.FromIni(IniFile.Parse(DashboardOptions.Format("10.0.0.1", 8080, "http://10.0.0.1:5000/v3", "RegionOne", null, "/k")));
        Assert.True(serve.ServesDashboard);
        Assert.Equal(("10.0.0.1", 8080, "/dashboard", "http://10.0.0.1:5000/v3", "RegionOne", "/k"),
            (serve.BindHost, serve.BindPort, serve.WebRoot, serve.KeystoneUrl, serve.DefaultRegion, serve.SecretKeyStore));
        Assert.Null(serve.RootRedirect);

        var redirect = DashboardOptions.FromIni(IniFile.Parse(DashboardOptions.Format("10.0.1.1", 80, null, "RegionTwo", "http://10.0.0.1/dashboard", null)));
        Assert.False(redirect.ServesDashboard);
        Assert.Equal(("10.0.1.1", 80, "http://10.0.0.1/dashboard"), (redirect.BindHost, redirect.BindPort, redirect.RootRedirect));
    }

    [Theory]
    [InlineData("[DEFAULT]\nbind_host = 10.0.0.1\n[dashboard]\n", "openstack_keystone_url: is required unless root_redirect is set")]
    [InlineData("[DEFAULT]\nbind_host = 10.0.0.1\nbind_port = 70000\n[dashboard]\nroot_redirect = http://x/dashboard\n", "bind_port: 70000 is not a TCP port")]
    [InlineData("[DEFAULT]\nbind_host = 10.0.0.1\n[dashboard]\nopenstack_keystone_url = keystone\n", "'keystone' is not an absolute URL")]
    public void Bad_settings_name_file_section_and_key(string text, string problem)
    {
        var e = Assert.Throws<ConfigException>(() => DashboardOptions.FromIni(IniFile.Parse(text, "/etc/stratus/dashboard/local_settings")));
        Assert.StartsWith("/etc/stratus/dashboard/local_settings: [", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"error": {"code": 404, "title": "Not Found", "message": "Could not find project: x."}}""", "Could not find project: x.")]
    [InlineData("""{"itemNotFound": {"code": 404, "message": "Instance abc could not be found."}}""", "Instance abc could not be found.")]
    [InlineData("""{"message": "Image size exceeds the limit.", "code": "413 Request Entity Too Large", "title": "Request Entity Too Large"}""", "Image size exceeds the limit.")]
    [InlineData("<html><body><h1>502 Bad Gateway</h1></body></html>", "502 Bad Gateway")]
    [InlineData("", "The service answered 500.")]
    public void A_services_error_body_becomes_its_message(string body, string message) =>
        Assert.Equal(message, CloudException.MessageOf(body.Length == 0 ? 500 : 404, body));
}
