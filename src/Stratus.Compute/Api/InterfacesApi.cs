using Stratus.Compute.Network;
using Stratus.Compute.Rpc;
using Stratus.Core.Messaging;

namespace Stratus.Compute.Api;

/// <summary>
/// <c>/servers/{id}/os-interface</c>: a server's ports, and attaching one (a new port on a network, or the
/// user's port) to the running guest or detaching it, as Nova's attach_interface does — the API checks
/// what is asked as the user, the server's host makes and binds the port and hot-plugs the NIC.
/// </summary>
public static class InterfacesApi
{
    static readonly string[] AttachStates = [VmStates.Active, VmStates.Paused, VmStates.Stopped];

    public static RouteGroupBuilder MapInterfaces(this RouteGroupBuilder v21)
    {
        var ifaces = v21.MapGroup("/servers/{id}/os-interface");
        ifaces.MapGet("", ListAsync).RequirePolicy("os_compute_api:os-attach-interfaces:list");
        ifaces.MapGet("/{portId}", ShowAsync).RequirePolicy("os_compute_api:os-attach-interfaces:show");
        ifaces.MapPost("", AttachAsync).RequirePolicy("os_compute_api:os-attach-interfaces:create");
        ifaces.MapDelete("/{portId}", DetachAsync).RequirePolicy("os_compute_api:os-attach-interfaces:delete");
        return v21;
    }

    static JsonObject View(JsonObject port) => new()
    {
        ["port_state"] = (string?)port["status"], ["fixed_ips"] = new JsonArray([.. (port["fixed_ips"] as JsonArray ?? []).Select(ip => (JsonNode)new JsonObject
        {
            ["subnet_id"] = (string?)ip!["subnet_id"], ["ip_address"] = (string?)ip["ip_address"],
        })]),
        ["port_id"] = (string?)port["id"], ["net_id"] = (string?)port["network_id"], ["mac_addr"] = (string?)port["mac_address"],
    };

    static async Task<IResult> ListAsync(string id, HttpContext http, CellDb db, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        await ComputeAccess.FindServerAsync(db, id, caller, ct);
        var ports = await Ports(neutron, $"device_id={id}", caller, ct);
        return new JsonResponse(new JsonObject { ["interfaceAttachments"] = new JsonArray([.. ports.Select(p => (JsonNode)View(p))]) });
    }

    static async Task<IResult> ShowAsync(string id, string portId, HttpContext http, CellDb db, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        await ComputeAccess.FindServerAsync(db, id, caller, ct);
        var port = (await Ports(neutron, $"device_id={id}&id={Uri.EscapeDataString(portId)}", caller, ct)).FirstOrDefault()
            ?? throw OpenStackError.NotFound($"Port {portId} is not attached");
        return new JsonResponse(new JsonObject { ["interfaceAttachment"] = View(port) });
    }

    static async Task<List<JsonObject>> Ports(NeutronClient neutron, string query, Caller caller, CancellationToken ct)
    {
        try
        {
            return await neutron.ListAsync("ports", query, caller.Token, ct);
        }
        catch (NeutronException e)
        {
            throw OpenStackError.BadRequest($"The network service could not list the server's ports: {e.Message}");
        }
    }

    static async Task<IResult> AttachAsync(string id, HttpContext http, CellDb db, ComputeApi compute, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var instance = await ComputeAccess.FindServerAsync(db, id, caller, ct);
        var body = (await JsonBody.ReadObjectAsync(http.Request, ct)).OptionalObject("interfaceAttachment") ?? [];
        body.RejectUnknown("net_id", "port_id", "fixed_ips", "tag");
        if (instance.Locked && !caller.IsAdmin) throw OpenStackError.Conflict($"Instance {id} is locked");
        if (instance.TaskState is not null || !AttachStates.Contains(instance.VmState) || instance.Host is null)
            throw OpenStackError.Conflict($"Cannot 'attach_interface' instance {id} while it is in vm_state {instance.VmState}");
        // The same checks as a create's networks: the user's network or free port, a valid fixed IP.
        var entry = new JsonObject();
        if (body.OptionalString("port_id") is { } port) entry["port"] = port;
        if (body.OptionalString("net_id") is { } net) entry["uuid"] = net;
        if (body.OptionalArray("fixed_ips") is [JsonObject first, ..] && first.OptionalString("ip_address") is { } ip) entry["fixed_ip"] = ip;
        if (entry.ContainsKey("port") && entry.ContainsKey("uuid")) throw OpenStackError.BadRequest("Must not input both network_id and port_id");
        var requested = entry.Count == 0
            ? await ServerNetworks.CheckAsync(new JsonObject { ["networks"] = "auto" }, required: true, caller, neutron, ct)
            : await ServerNetworks.CheckAsync(new JsonObject { ["networks"] = new JsonArray(entry) }, required: true, caller, neutron, ct);
        Vif vif;
        try
        {
            vif = await compute.CallAsync(instance.Host, new AttachInterface(id, instance.ProjectId, instance.AvailabilityZone ?? "nova", requested[0]), ComputeRpc.CallTimeout, ct);
        }
        catch (RpcRemoteException e)
        {
            throw OpenStackError.BadRequest($"Failed to attach network adapter device to {id}: {e.Message}");
        }
        await db.SaveInstanceAsync(instance, i =>
        {
            i.NetworkInfoJson = ServerNetworks.ToJson([.. ServerNetworks.Vifs(i.NetworkInfoJson), vif]);
            i.Touch();
        }, ct);
        return new JsonResponse(new JsonObject
        {
            ["interfaceAttachment"] = new JsonObject
            {
                ["port_state"] = vif.Active ? "ACTIVE" : "DOWN", ["port_id"] = vif.PortId, ["net_id"] = vif.NetworkId, ["mac_addr"] = vif.MacAddress,
                ["fixed_ips"] = new JsonArray([.. vif.Addresses.Select(a => (JsonNode)new JsonObject { ["subnet_id"] = a.SubnetId, ["ip_address"] = a.Address })]),
            },
        });
    }

    static async Task<IResult> DetachAsync(string id, string portId, HttpContext http, CellDb db, ComputeApi compute, CancellationToken ct)
    {
        var caller = http.Caller();
        var instance = await ComputeAccess.FindServerAsync(db, id, caller, ct);
        if (instance.Locked && !caller.IsAdmin) throw OpenStackError.Conflict($"Instance {id} is locked");
        var vifs = ServerNetworks.Vifs(instance.NetworkInfoJson);
        var vif = vifs.FirstOrDefault(v => v.PortId == portId) ?? throw OpenStackError.NotFound($"Port {portId} is not attached");
        if (instance.TaskState is not null || !AttachStates.Contains(instance.VmState) || instance.Host is null)
            throw OpenStackError.Conflict($"Cannot 'detach_interface' instance {id} while it is in vm_state {instance.VmState}");
        await db.SaveInstanceAsync(instance, i =>
        {
            i.NetworkInfoJson = ServerNetworks.ToJson([.. vifs.Where(v => v.PortId != portId)]);
            i.Touch();
        }, ct);
        await compute.CastAsync(instance.Host, new DetachInterface(id, vif), ct);
        return Results.Accepted();
    }
}
