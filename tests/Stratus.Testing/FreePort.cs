using System.Net;
using System.Net.Sockets;

namespace Stratus.Testing;

/// <summary>A loopback TCP port nobody listens on now, for a server a test starts by hand.</summary>
public static class FreePort
{
    public static int Next()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
