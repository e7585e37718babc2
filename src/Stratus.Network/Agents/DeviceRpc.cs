using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Core.Messaging;
using Stratus.Network.Notifications;

namespace Stratus.Network.Agents;

/// <summary>
/// The L2 agents' questions to neutron-server on <c>q-plugin</c> (Neutron's RpcCallbacks): what a device
/// of the host is (its port, network and segment), and that it went up or down — which makes its port
/// ACTIVE or DOWN and tells Nova (network-vif-plugged / -unplugged); and the devices' security groups
/// (<see cref="SecurityGroupInfoForDevices"/>).
/// </summary>
public sealed record GetDevicesDetailsList(string AgentId, IReadOnlyList<string> Devices, string Host) : IRpcCall<List<DeviceDetails>>;

public sealed record UpdateDeviceUp(string AgentId, string Device, string Host) : IRpcCall<bool>;

public sealed record UpdateDeviceDown(string AgentId, string Device, string Host) : IRpcCall<bool>;

/// <summary>A device's port as the agent wires it; only <see cref="Device"/> when the server knows no port of that name.</summary>
public sealed record DeviceDetails(string Device)
{
    public string? PortId { get; init; }
    public string? NetworkId { get; init; }
    public string? MacAddress { get; init; }
    public bool AdminStateUp { get; init; }
    public string? NetworkType { get; init; }
    public string? PhysicalNetwork { get; init; }
    public int? SegmentationId { get; init; }
    public int Mtu { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GetDevicesDetailsList))]
[JsonSerializable(typeof(UpdateDeviceUp))]
[JsonSerializable(typeof(UpdateDeviceDown))]
[JsonSerializable(typeof(List<DeviceDetails>))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(SecurityGroupInfoForDevices))]
[JsonSerializable(typeof(DataPlane.PortFirewall.SecurityGroupInfo))]
sealed partial class DeviceRpcJson : JsonSerializerContext;

/// <summary>The agents' client of <c>q-plugin</c>.</summary>
public sealed class PluginApi(IMessageBus bus) : RpcClient(bus, AgentTopics.Plugin, DeviceRpcJson.Default, TimeSpan.FromSeconds(60));

/// <summary>neutron-server's side of <c>q-plugin</c>.</summary>
sealed class PluginRpc(IMessageBus bus, IServiceScopeFactory scopes, NovaNotifier nova, Api.PortBinding binding, TimeProvider time, NetworkOptions options,
    ILogger<PluginRpc> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var rpc = new RpcDispatcher(NetworkOptions.Server, DeviceRpcJson.Default)
            .On<GetDevicesDetailsList, List<DeviceDetails>>(DetailsAsync)
            .On<UpdateDeviceUp, bool>((m, ct) => SetStatusAsync(m.Device, m.Host, "ACTIVE", ct))
            .On<UpdateDeviceDown, bool>((m, ct) => SetStatusAsync(m.Device, m.Host, "DOWN", ct))
            .On<SecurityGroupInfoForDevices, DataPlane.PortFirewall.SecurityGroupInfo>(async (m, ct) =>
            {
                await using var scope = scopes.CreateAsyncScope();
                return await SecurityGroupInfos.ForAsync(scope.ServiceProvider.GetRequiredService<NetworkDb>(), m.Devices, ct);
            });
        var dhcp = new RpcDispatcher(NetworkOptions.Server, DhcpRpcJson.Default).On<GetActiveNetworksInfo, List<DataPlane.DhcpServers.Network>>(async (m, ct) =>
        {
            await using var scope = scopes.CreateAsyncScope();
            return await DhcpNetworks.ForAsync(scope.ServiceProvider.GetRequiredService<NetworkDb>(), binding, options, m.Host, time.GetUtcNow().UtcDateTime, ct);
        });
        var metadata = new RpcDispatcher(NetworkOptions.Server, MetadataRpcJson.Default).On<GetPorts, List<MetadataPort>>(async (m, ct) =>
        {
            await using var scope = scopes.CreateAsyncScope();
            return await MetadataPorts.ForAsync(scope.ServiceProvider.GetRequiredService<NetworkDb>(), m, ct);
        });
        // One topic, message sets of several agents (L2, DHCP, metadata), each with its own serializer.
        await using var serving = await bus.ServeAsync(AgentTopics.Plugin, options.Host, (method, args, ct) => method switch
        {
            "get_active_networks_info" => dhcp.DispatchAsync(method, args, ct),
            "get_ports" => metadata.DispatchAsync(method, args, ct),
            _ => rpc.DispatchAsync(method, args, ct),
        }, stop);
        try
        {
            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>A tap is "tap" and the port id's first 11 characters: the port whose id starts so.</summary>
    internal static async Task<PortRow?> PortOfAsync(NetworkDb db, string device, CancellationToken ct)
    {
        if (!device.StartsWith("tap", StringComparison.Ordinal) || device.Length < 4) return null;
        var prefix = device[3..];
        return await db.Ports.FirstOrDefaultAsync(p => p.Id.StartsWith(prefix), ct);
    }

    async Task<List<DeviceDetails>> DetailsAsync(GetDevicesDetailsList m, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NetworkDb>();
        var result = new List<DeviceDetails>();
        foreach (var device in m.Devices)
        {
            var port = await PortOfAsync(db, device, ct);
            var network = port is null ? null : await db.Networks.FindAsync([port.NetworkId], ct);
            if (port is null || network is null)
            {
                log.LogDebug("Device {Device} requested by agent {Agent} not found in database", device, m.AgentId);
                result.Add(new DeviceDetails(device));
                continue;
            }
            result.Add(new DeviceDetails(device)
            {
                PortId = port.Id, NetworkId = network.Id, MacAddress = port.MacAddress, AdminStateUp = port.AdminStateUp && network.AdminStateUp,
                NetworkType = network.NetworkType, PhysicalNetwork = network.PhysicalNetwork is { Length: > 0 } p ? p : null,
                SegmentationId = network.SegmentationId, Mtu = network.Mtu,
            });
        }
        return result;
    }

    /// <summary>Neutron's update_port_status from an L2 agent: only for a port bound to that host; Nova told of the change.</summary>
    async Task<bool> SetStatusAsync(string device, string host, string status, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NetworkDb>();
        var port = await PortOfAsync(db, device, ct);
        if (port is null) return false;
        if (port.HostId.Length > 0 && port.HostId != host)
        {
            log.LogDebug("Device {Device} not bound to the agent host {Host}", device, host);
            return true;
        }
        var before = port.Status;
        if (before == status) return true;
        port.Status = status;
        Api.Standard.Touch(port, time.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        if (nova.ForStatusChange(port, before, status) is { } e) _ = nova.SendAsync([e], CancellationToken.None);
        return true;
    }
}
