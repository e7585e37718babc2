using Stratus.BlockStorage;

namespace Stratus.Testing;

/// <summary>A <see cref="ComputeServer"/> whose region node also runs placement and block storage (a file backend), so servers get volumes.</summary>
public class VolumeRegionServer() : ComputeServer(placement: true, volumes: true)
{
    public string VolumeUrl
    {
        get
        {
            var options = Node.Options<CinderOptions>();
            return $"http://{options.ListenAddress}:{options.ListenPort}";
        }
    }

    /// <summary>The volume API of <paramref name="projectId"/> (<c>/v3/{project}</c>) at microversion 3.70.</summary>
    public HttpClient VolumeClient(string? token, string projectId) => TestHttp.Client($"{VolumeUrl}/v3/{projectId}", token, "volume 3.70");
}
