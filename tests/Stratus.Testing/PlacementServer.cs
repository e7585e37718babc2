using Stratus.Identity;
using Stratus.Placement;

namespace Stratus.Testing;

/// <summary>A real placement service trusting a real identity: an <see cref="IdentityServer"/> and a node of its region running placement.</summary>
public class PlacementServer : IAsyncLifetime
{
    public IdentityServer Identity { get; } = new();
    public TestNode Node { get; private set; } = null!;
    public string Url { get; private set; } = "";

    /// <summary>An operator's policy.yaml beside placement.conf; null leaves Placement's default rules alone.</summary>
    protected virtual string? PolicyYaml => null;

    public async Task InitializeAsync()
    {
        await Identity.InitializeAsync();
        Node = await TestNode.InitAsync(TestNode.Services(m => m is IdentityModule or PlacementModule), TestNode.NewSpec() with { IdentityUrl = Identity.Node.IdentityUrl });
        if (PolicyYaml is not null) await File.WriteAllTextAsync(Path.Combine(Node.ConfigDir, "placement", "policy.yaml"), PolicyYaml);
        await Node.StartAsync();
        var options = Node.Options<PlacementOptions>();
        Url = $"http://{options.BindHost}:{options.BindPort}";
    }

    public HttpClient Client(string? token, string? version = "1.39") => TestHttp.Client(Url, token, version is null ? null : "placement " + version);

    public HttpClient Admin(string version = "1.39") => Client(Identity.AdminToken, version);

    public async Task DisposeAsync()
    {
        if (Node is not null) await Node.DisposeAsync();
        await Identity.DisposeAsync();
    }
}
