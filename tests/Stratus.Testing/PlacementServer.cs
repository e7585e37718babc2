using Stratus.Identity;
using Stratus.Placement;

namespace Stratus.Testing;

/// <summary>A real placement service trusting a real identity: an <see cref="IdentityServer"/> and a node of its region running placement.</summary>
public sealed class PlacementServer : IAsyncLifetime
{
    public IdentityServer Identity { get; } = new();
    public TestNode Node { get; private set; } = null!;
    public string Url { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Identity.InitializeAsync();
        Node = await TestNode.InitAsync(TestNode.Services(m => m is IdentityModule or PlacementModule), TestNode.NewSpec() with { IdentityUrl = Identity.Node.IdentityUrl });
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
