using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Core.Data;
using Stratus.Core.Hosting;

namespace Stratus.Compute.Metadata;

/// <summary>
/// nova-api's metadata service (<c>enabled_apis = osapi_compute,metadata</c>) on <c>metadata_listen:8775</c>:
/// what a guest asks at http://169.254.169.254/, brought by the network service's metadata proxy with the
/// instance's id and project and their HMAC-SHA256 signature made with <c>metadata_proxy_shared_secret</c>.
/// A request without a valid signature is refused and logged, as Nova does. Its own web host, so its
/// routes are never reachable on the compute API's port and the compute API's never on this one.
/// </summary>
public sealed class MetadataServer(NovaOptions options, ILogger<MetadataServer> log) : IHostedService
{
    WebApplication? _app;

    public async Task StartAsync(CancellationToken ct)
    {
        var builder = ServiceHost.CreateBuilder(options.MetadataListen, options.MetadataListenPort, maxRequestBodySize: 0);
        builder.Services.AddSingleton(options);
        var cell = DatabaseUrl.Parse(options.Database);
        builder.Services.AddServiceDb<CellDb>(cell);
        builder.Services.AddSingleton<ILogger>(log);
        _app = builder.Build();
        _app.MapMetadataApi();
        await _app.StartAsync(ct);
    }

    public async Task StopAsync(CancellationToken ct)
    {
        if (_app is not null) await _app.DisposeAsync();
    }

    /// <summary>Nova's check of a proxied request: the instance id signed with the shared secret, compared in constant time.</summary>
    public static bool SignatureValid(string secret, string instanceId, string? signature)
    {
        if (signature is null) return false;
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(instanceId)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature));
    }
}
