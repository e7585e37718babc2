using System.Text.Json.Nodes;
using Stratus.Identity;
using Stratus.Network;

namespace Stratus.Testing;

/// <summary>A real network service trusting a real identity: an <see cref="IdentityServer"/> and a node of its region running neutron-server.</summary>
public class NetworkServer : IAsyncLifetime
{
    public IdentityServer Identity { get; } = new();
    public TestNode Node { get; private set; } = null!;
    public string Url { get; private set; } = "";

    /// <summary>An operator's policy.yaml beside neutron.conf; null leaves Neutron's default rules alone.</summary>
    protected virtual string? PolicyYaml => null;

    /// <summary>INI text a fixture adds to the node's files (relative path to text), as <see cref="TestNode.NewSpec"/> takes it.</summary>
    protected virtual IReadOnlyDictionary<string, string>? PostConfig => null;

    /// <summary>The clock the node's services read (the agents' heartbeats, the alive rule); a fixture may give a fake one.</summary>
    protected virtual TimeProvider Time => TimeProvider.System;

    public async Task InitializeAsync()
    {
        await Identity.InitializeAsync();
        Node = await TestNode.InitAsync(TestNode.Services(m => m is IdentityModule or NetworkModule), TestNode.NewSpec(PostConfig) with { IdentityUrl = Identity.Node.IdentityUrl });
        if (PolicyYaml is not null) await File.WriteAllTextAsync(Path.Combine(Node.ConfigDir, "neutron", "policy.yaml"), PolicyYaml);
        Node.Time = Time;
        await Node.StartAsync();
        var options = Node.Options<NetworkOptions>();
        Url = $"http://{options.BindHost}:{options.BindPort}";
    }

    public HttpClient Client(string? token) => TestHttp.Client(Url, token);

    public HttpClient Admin() => Client(Identity.AdminToken);

    /// <summary>A member of a new project, with a client of the network service in that project.</summary>
    public async Task<(HttpClient Client, string ProjectId)> MemberAsync()
    {
        var (identity, _, project) = await Identity.NewProjectUserAsync();
        return (Client(identity.DefaultRequestHeaders.GetValues("X-Auth-Token").Single()), project);
    }

    /// <summary>The environment the real <c>openstack</c> CLI needs to act as the admin in the node's region.</summary>
    public IDictionary<string, string> AdminEnv() => Identity.AdminEnv();

    /// <summary>Runs <c>openstack ... -f json</c> as the admin and returns what it printed; fails on a non-zero exit.</summary>
    public Task<JsonNode> OpenStackAsync(params string[] args) => Identity.OpenStackAsync(args);

    public async Task DisposeAsync()
    {
        if (Node is not null)
        {
            try
            {
                // What the tests made, with its bridges (the DHCP ports' too): the stopping agents would leave those on the host.
                await NeutronCalls.DeleteEverythingAsync(Admin());
            }
            catch (HttpRequestException)
            {
                // A node a test stopped: its agents took down what they could.
            }
            await Node.DisposeAsync();
        }
        await Identity.DisposeAsync();
    }
}
