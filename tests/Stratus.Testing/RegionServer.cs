using Stratus.Placement;

namespace Stratus.Testing;

/// <summary>A <see cref="ComputeServer"/> whose region node also runs placement, so servers are scheduled and built.</summary>
public sealed class RegionServer() : ComputeServer(placement: true)
{
    public string PlacementUrl
    {
        get
        {
            var options = Node.Options<PlacementOptions>();
            return $"http://{options.BindHost}:{options.BindPort}";
        }
    }

    public HttpClient PlacementClient(string? token, string version = "1.39") => TestHttp.Client(PlacementUrl, token, "placement " + version);
}
