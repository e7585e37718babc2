using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Core.Auth;
using Stratus.Core.Config;
using Stratus.Core.Hosting;
using Stratus.Core.Http;
using Stratus.Core.Modules;
using Stratus.Identity;

namespace Stratus.Testing.Tests;

/// <summary>A service added to a node's module list is initialised, registered and started by the modules' contract alone: no change to the CLI.</summary>
public class ServiceModuleTests(IdentityServer identity) : IClassFixture<IdentityServer>
{
    const int FakePort = 9876;

    sealed record FakeOptions(string BindHost, int BindPort, string Greeting, KeystoneAuthtokenOptions Authtoken);

    /// <summary>The smallest service: one file, one catalog entry, one route behind the shared pipeline and auth_token.</summary>
    sealed class FakeModule : ServiceModule<FakeOptions>
    {
        public override string Name => "fake";
        public override string ConfigFile => "fake/fake.conf";

        public override FakeOptions ReadOptions(IniFile ini) => new(ini.GetRequired("DEFAULT", "bind_host"), ini.GetInt("DEFAULT", "bind_port", FakePort),
            ini.GetString("DEFAULT", "greeting") ?? "hello", KeystoneAuthtokenOptions.FromIni(ini));

        protected override void WriteDefaults(NodeInit node) => node.WriteFile(ConfigFile, IniFile.Format(
        [
            ("DEFAULT", [("bind_host", node.Spec.Address), ("bind_port", FakePort.ToString(System.Globalization.CultureInfo.InvariantCulture))]),
            ("keystone_authtoken", node.ServiceUser("fake")),
        ]), secret: true);

        public override IEnumerable<ServiceRegistration> CatalogEntries(FakeOptions options, NodeInit node) =>
            [new("fake", "fake", "A fake service", node.Spec.Region, $"http://{options.BindHost}:{options.BindPort}", options.Authtoken.Username, options.Authtoken.Password)];

        public override IHost Build(FakeOptions options, NodeRuntime runtime)
        {
            var builder = ServiceHost.CreateBuilder(options.BindHost, options.BindPort, maxRequestBodySize: 1024);
            builder.Services.AddSingleton<ErrorBodyWriter>(e => JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["error"] = e.Message }));
            builder.Services.AddAuthToken(options.Authtoken);
            var app = builder.Build();
            app.UseServicePipeline();
            app.MapGet("/greeting", (HttpContext http) => $"{options.Greeting}, {http.Caller().UserName}");
            return app;
        }

        public override string Describe(FakeOptions options, string configFile) => $"fake: http://{options.BindHost}:{options.BindPort} ({configFile})";
    }

    async Task<TestNode> FakeNodeAsync() =>
        await TestNode.InitAsync([.. TestNode.Services(m => m is IdentityModule), new FakeModule()], TestNode.NewSpec() with { IdentityUrl = identity.Node.IdentityUrl });

    [Fact]
    public async Task A_module_added_to_a_node_is_initialised_registered_in_the_catalog_and_started()
    {
        await using var node = await FakeNodeAsync();
        var url = $"http://{node.Spec.Address}:{FakePort}";

        var conf = IniFile.Load(Path.Combine(node.ConfigDir, "fake", "fake.conf"));
        Assert.Equal(node.Spec.Address, conf.GetString("DEFAULT", "bind_host"));
        Assert.Equal("fake", conf.GetString("keystone_authtoken", "username"));

        // A new token's catalog: the fake service, at the node's URL, in the node's region.
        var token = await identity.IssueTokenAsync("admin", IdentityServer.AdminPassword, project: "admin");
        using var validate = new HttpRequestMessage(HttpMethod.Get, "v3/auth/tokens");
        validate.Headers.Add("X-Subject-Token", token);
        var catalog = (await (await identity.Admin.SendAsync(validate)).JsonAsync())["token"]!["catalog"]!.AsArray();
        var fake = catalog.Single(s => (string?)s!["type"] == "fake")!;
        Assert.Equal("fake", (string?)fake["name"]);
        Assert.Equal(
            [("admin", url, IdentityServer.Region), ("internal", url, IdentityServer.Region), ("public", url, IdentityServer.Region)],
            fake["endpoints"]!.AsArray().Select(e => ((string)e!["interface"]!, (string)e["url"]!, (string)e["region_id"]!)).Order());

        // Its service user logs in with the password init wrote.
        await identity.IssueTokenAsync("fake", conf.GetRequired("keystone_authtoken", "password"), project: "service");

        await node.StartAsync();
        using var anonymous = TestHttp.Client(url, null);
        var refused = await anonymous.GetAsync("greeting");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal($"Keystone uri=\"{identity.BaseUrl}\"", refused.Headers.WwwAuthenticate.ToString());
        using var admin = TestHttp.Client(url, token);
        var answer = await admin.GetAsync("greeting");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("hello, admin", await answer.Content.ReadAsStringAsync());

        await node.StopAsync();
        await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.GetAsync("greeting"));
    }

    [Fact]
    public async Task A_fixture_changes_a_services_options_before_it_starts()
    {
        await using var node = await FakeNodeAsync();
        node.Configure<FakeOptions>(o => o with { Greeting = "bonjour" });
        node.Configure<FakeOptions>(o => o with { Greeting = o.Greeting + " et salut" });
        await node.StartAsync();
        Assert.Equal("bonjour et salut", node.Options<FakeOptions>().Greeting);
        using var admin = TestHttp.Client($"http://{node.Spec.Address}:{FakePort}", identity.AdminToken);
        Assert.Equal("bonjour et salut, admin", await admin.GetStringAsync("greeting"));
        // The file keeps the default: the change is the fixture's, not the operator's.
        Assert.Null(IniFile.Load(Path.Combine(node.ConfigDir, "fake", "fake.conf")).GetString("DEFAULT", "greeting"));
    }

    [Fact]
    public async Task Post_config_keys_win_over_the_defaults_init_writes()
    {
        await using var node = await TestNode.InitAsync([.. TestNode.Services(m => m is IdentityModule), new FakeModule()], TestNode.NewSpec(
            new Dictionary<string, string> { ["fake/fake.conf"] = "[DEFAULT]\ngreeting = hi\nbind_port = 9877\n" }) with { IdentityUrl = identity.Node.IdentityUrl });
        var options = node.Options<FakeOptions>();
        Assert.Equal(("hi", 9877, node.Spec.Address), (options.Greeting, options.BindPort, options.BindHost));
    }

    [Fact]
    public async Task Nodes_have_addresses_of_their_own_and_the_seeds_ports()
    {
        await using var one = await FakeNodeAsync();
        await using var two = await FakeNodeAsync();
        Assert.NotEqual(one.Spec.Address, two.Spec.Address);
        Assert.StartsWith("127.", one.Spec.Address, StringComparison.Ordinal);
        Assert.Equal(5000, identity.Options.BindPort);
        Assert.Equal($"http://{identity.Options.BindHost}:5000/v3", identity.Node.IdentityUrl);
        await one.StartAsync();
        await two.StartAsync();
        using var a = TestHttp.Client($"http://{one.Spec.Address}:{FakePort}", identity.AdminToken);
        using var b = TestHttp.Client($"http://{two.Spec.Address}:{FakePort}", identity.AdminToken);
        Assert.Equal(HttpStatusCode.OK, (await a.GetAsync("greeting")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("greeting")).StatusCode);
    }
}
