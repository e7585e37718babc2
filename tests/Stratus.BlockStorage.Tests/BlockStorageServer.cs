using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.BlockStorage;
using Stratus.Identity;
using Stratus.Image;

namespace Stratus.BlockStorage.Tests;

/// <summary>
/// A real block storage service trusting a real identity: an <see cref="IdentityServer"/>, and a node of its region
/// running the image service and cinder (api, scheduler, a file backend's cinder-volume) as <c>node init</c> writes them.
/// </summary>
public class BlockStorageServer : IAsyncLifetime
{
    public IdentityServer Identity { get; } = new();
    public TestNode Node { get; private set; } = null!;
    public CinderOptions Options { get; private set; } = null!;
    public string Url { get; private set; } = "";
    public string ImageUrl { get; private set; } = "";

    /// <summary>INI text a fixture adds to the node's files, as <see cref="TestNode.NewSpec"/> takes it.</summary>
    protected virtual IReadOnlyDictionary<string, string>? PostConfig => null;

    public async Task InitializeAsync()
    {
        await Identity.InitializeAsync();
        Node = await TestNode.InitAsync(TestNode.Services(m => m is IdentityModule or ImageModule or BlockStorageModule),
            TestNode.NewSpec(PostConfig) with { IdentityUrl = Identity.Node.IdentityUrl });
        await Node.StartAsync();
        Options = Node.Options<CinderOptions>();
        Url = $"http://{Options.ListenAddress}:{Options.ListenPort}";
        var image = Node.Options<ImageOptions>();
        ImageUrl = $"http://{image.BindHost}:{image.BindPort}";
        await BlockStorageBackends.WaitAsync(Node, Identity);
    }

    /// <summary>A client of <c>/v3/{project}/</c> with a token and a microversion.</summary>
    public HttpClient Client(string token, string projectId, string? version = "3.70") =>
        TestHttp.Client($"{Url}/v3/{projectId}", token, version is null ? null : "volume " + version);

    public async Task<HttpClient> AdminAsync(string? version = "3.70") => Client(Identity.AdminToken, await ProjectIdAsync(Identity.AdminToken), version);

    /// <summary>A user with <paramref name="role"/> on a new project, with its client of the volume API.</summary>
    public async Task<(HttpClient Client, string ProjectId, string Token)> NewProjectUserAsync(string role = "member", string? version = "3.70")
    {
        var (identity, _, project) = await Identity.NewProjectUserAsync(role);
        var token = identity.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        return (Client(token, project, version), project, token);
    }

    public Task<string> ProjectIdAsync(string token) => Identity.ProjectIdAsync(token);

    public HttpClient ImageClient(string token) => TestHttp.Client(ImageUrl, token);

    public async Task DisposeAsync()
    {
        if (Node is not null) await Node.DisposeAsync();
        await Identity.DisposeAsync();
    }
}
