using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Stratus.Compute;
using Stratus.Identity;
using Stratus.Image;
using Stratus.Network;
using Stratus.Placement;

namespace Stratus.Testing;

/// <summary>
/// A region's compute trusting a real identity: an <see cref="IdentityServer"/>, and a node of its region
/// running the image service and Nova with every service (API, scheduler, conductor, one compute agent
/// with the fake driver) on an in-process bus of its own, registered in the identity by <c>node init</c>.
/// Nova runs without placement unless the region runs it (<see cref="RegionServer"/>).
/// </summary>
public class ComputeServer : IAsyncLifetime
{
    readonly bool _placement, _network, _volumes;

    public ComputeServer() : this(placement: false) { }

    protected ComputeServer(bool placement, bool network = false, bool volumes = false) => (_placement, _network, _volumes) = (placement, network, volumes);

    public IdentityServer Identity { get; } = new();
    public TestNode Node { get; private set; } = null!;
    public NovaOptions Nova { get; private set; } = null!;
    public string ComputeUrl { get; private set; } = "";
    public HttpClient ComputeAdmin { get; private set; } = null!;

    /// <summary>The image API as the admin.</summary>
    public HttpClient Admin { get; private set; } = null!;

    string _imageUrl = "";

    /// <summary>An operator's policy.yaml beside nova.conf; null leaves Nova's default rules alone.</summary>
    protected virtual string? PolicyYaml => null;

    public async Task InitializeAsync()
    {
        await Identity.InitializeAsync();
        Node = await TestNode.InitAsync(TestNode.Services(m => m is IdentityModule or ComputeModule or ImageModule || _placement && m is PlacementModule
            || _network && m is NetworkModule || _volumes && m is BlockStorage.BlockStorageModule),
            TestNode.NewSpec() with { IdentityUrl = Identity.Node.IdentityUrl, Host = "compute-test" });
        Node.Configure<NovaOptions>(o => o with
        {
            ComputeDriver = "fake.FakeDriver",
            ReportInterval = TimeSpan.FromMilliseconds(300),
            ServiceDownTime = TimeSpan.FromSeconds(3),
            Placement = _placement ? o.Placement : null,
            PlacementError = _placement ? o.PlacementError : "[placement] is not configured",
        });
        if (PolicyYaml is not null) await File.WriteAllTextAsync(Path.Combine(Node.ConfigDir, "nova", "policy.yaml"), PolicyYaml);
        Configure(Node);
        await Node.StartAsync();
        Nova = Node.Options<NovaOptions>();
        ComputeUrl = $"http://{Nova.ListenAddress}:{Nova.ListenPort}";
        var image = Node.Options<ImageOptions>();
        _imageUrl = $"http://{image.BindHost}:{image.BindPort}";
        ComputeAdmin = ComputeClient(Identity.AdminToken);
        Admin = TestHttp.Client(_imageUrl, Identity.AdminToken);
        await WaitForRegistrationsAsync();
    }

    /// <summary>What a fixture changes of the node's services before they start.</summary>
    protected virtual void Configure(TestNode node) { }

    /// <summary>
    /// The compute agent registers its host in the background, its hypervisor first and then (with placement) its resource
    /// provider's inventory, which the scheduler needs; cinder-volume records its service in the background too. Tests
    /// start once all are there.
    /// </summary>
    async Task WaitForRegistrationsAsync()
    {
        await Poll.UntilAsync(() => ComputeAdmin.GetFromJsonAsync<JsonObject>("os-hypervisors"), h => h?["hypervisors"]?.AsArray().Count > 0,
            $"{Nova.Host} registering its hypervisor");
        if (_placement)
        {
            var options = Node.Options<PlacementOptions>();
            using var placement = TestHttp.Client($"http://{options.BindHost}:{options.BindPort}", Identity.AdminToken, "placement 1.10");
            await Poll.UntilAsync(() => placement.GetFromJsonAsync<JsonObject>("allocation_candidates?resources=VCPU:1"),
                c => c?["allocation_requests"]?.AsArray().Count > 0, $"{Nova.Host} putting its inventory into placement");
        }
        if (_volumes) await BlockStorageBackends.WaitAsync(Node, Identity);
    }

    public HttpClient ComputeClient(string? token, string? microversion = null) =>
        TestHttp.Client(ComputeUrl + "/v2.1", token, microversion is null ? null : "compute " + microversion);

    /// <summary>A member of a new project, with a compute client at <paramref name="microversion"/> and an image client.</summary>
    public async Task<(HttpClient Compute, HttpClient Image, string ProjectId)> NewComputeUserAsync(string microversion = "2.1", string role = "member")
    {
        var (identity, _, projectId) = await Identity.NewProjectUserAsync(role);
        var token = identity.DefaultRequestHeaders.GetValues("X-Auth-Token").Single();
        return (ComputeClient(token, microversion), TestHttp.Client(_imageUrl, token), projectId);
    }

    /// <summary>An active image of a few bytes (the fake driver boots anything).</summary>
    public async Task<string> NewImageAsync(HttpClient image, string visibility = "private")
    {
        var id = (string)(await image.CreateImageAsync(new JsonObject
        {
            ["name"] = "img-" + Guid.NewGuid().ToString("N")[..6], ["disk_format"] = "qcow2", ["container_format"] = "bare", ["visibility"] = visibility,
        }))["id"]!;
        (await image.UploadAsync(id, [1, 2, 3, 4])).EnsureSuccessStatusCode();
        return id;
    }

    /// <summary>Polls a server (as <paramref name="compute"/> sees it) until <paramref name="done"/> says so; fails the test after a minute.</summary>
    public static async Task<JsonObject> WaitForServerAsync(HttpClient compute, string id, Func<JsonObject, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var server = (await compute.GetFromJsonAsync<JsonObject>($"servers/{id}"))!["server"]!.AsObject();
            if (done(server)) return server;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"server {id} did not get there: {server.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    /// <summary>A small public flavor (64 MiB, one vCPU, no disk); returns its id.</summary>
    public async Task<string> NewFlavorAsync()
    {
        var flavor = "f-" + Guid.NewGuid().ToString("N")[..6];
        await ComputeAdmin.PostJsonAsync("flavors", new JsonObject { ["flavor"] = new JsonObject { ["name"] = flavor, ["id"] = flavor, ["ram"] = 64, ["vcpus"] = 1, ["disk"] = 0 } }, 200);
        return flavor;
    }

    public virtual async Task DisposeAsync()
    {
        if (Node is not null) await Node.DisposeAsync();
        ComputeAdmin?.Dispose();
        Admin?.Dispose();
        await Identity.DisposeAsync();
    }
}
