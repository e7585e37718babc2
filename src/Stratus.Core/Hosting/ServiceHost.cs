using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Stratus.Core.Hosting;

/// <summary>The web host every Stratus service runs in: Kestrel on the node's address and the service's port.</summary>
public static class ServiceHost
{
    public static WebApplicationBuilder CreateBuilder(string bindHost, int port, long? maxRequestBodySize)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            // Never all addresses: several nodes share one machine in tests and in `stratus up`.
            k.Listen(IPAddress.Parse(bindHost), port);
            k.Limits.MaxRequestBodySize = maxRequestBodySize;
            k.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
            k.AddServerHeader = false;
        });
        return builder;
    }
}
