using Stratus.Network;

namespace Stratus.Testing;

/// <summary>A <see cref="ComputeServer"/> whose region node also runs placement and the network service, so servers get ports.</summary>
public class NetworkedRegionServer() : ComputeServer(placement: true, network: true)
{
    public string NetworkUrl
    {
        get
        {
            var options = Node.Options<NetworkOptions>();
            return $"http://{options.BindHost}:{options.BindPort}";
        }
    }

    public HttpClient NetworkClient(string? token) => TestHttp.Client(NetworkUrl, token);
}
