using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Placement;

namespace Stratus.Compute.Tests.Infrastructure;

/// <summary>A <see cref="ComputeServer"/> with a real placement service, so servers are scheduled and built.</summary>
public class RegionServer : ComputeServer
{
    readonly string _dir = Directory.CreateTempSubdirectory("stratus-placement-").FullName;
    WebApplication? _placement;

    public string PlacementUrl { get; private set; } = "";

    protected override async Task<string?> StartPlacementAsync()
    {
        var options = new PlacementOptions
        {
            ConfigPath = Path.Combine(_dir, "placement.conf"),
            BindHost = "127.0.0.1",
            BindPort = 0,
            DatabaseConnection = $"sqlite:///{Path.Combine(_dir, "placement.db")}",
            Authtoken = Options.Authtoken with { Username = "placement", Source = "placement.conf [keystone_authtoken]" },
        };
        await new PlacementModule().SyncDatabaseAsync(options);
        _placement = PlacementModule.Build(options);
        await _placement.StartAsync();
        PlacementUrl = _placement.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return PlacementUrl;
    }

    public HttpClient PlacementClient(string? token, string version = "1.39")
    {
        var c = new HttpClient { BaseAddress = new Uri(PlacementUrl + "/") };
        if (token is not null) c.DefaultRequestHeaders.Add("X-Auth-Token", token);
        c.DefaultRequestHeaders.Add("OpenStack-API-Version", "placement " + version);
        return c;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_placement is not null) await _placement.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
