using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Stratus.Core.Hosting;
using Stratus.Core.Messaging;

namespace Stratus.Network.Agents;

/// <summary>
/// neutron-metadata-agent: listens on <c>metadata_proxy_socket</c> for the requests the namespaces'
/// proxies pass on (<see cref="DataPlane.MetadataProxies"/>), finds the guest's port from the network (or
/// router) the proxy names and the address the request came from, and forwards the request to Nova's
/// metadata API with <c>X-Instance-ID</c>, <c>X-Tenant-ID</c> and their HMAC-SHA256 signature made with
/// <c>metadata_proxy_shared_secret</c>. It reports where it proxies to.
/// </summary>
public sealed class MetadataAgent(IMessageBus bus, TimeProvider time, NetworkOptions options, MetadataPluginApi plugin, ILogger<MetadataAgent> log)
    : NeutronAgent(bus, time, options, log)
{
    public const string Type = "Metadata agent";

    static readonly HttpClient Nova = new() { Timeout = TimeSpan.FromSeconds(60) };
    readonly ILogger _log = log;

    public override string Binary => NetworkOptions.MetadataAgent;
    public override string AgentType => Type;
    public override string Topic => AgentTopics.NotApplicable;
    protected override AgentSettings Settings => Options.Agent.Metadata;
    /// <summary>Neutron's metadata agent calls only its first report.</summary>
    protected override bool CallsAfterStart => false;

    protected override JsonObject Configurations() => new()
    {
        ["metadata_proxy_socket"] = Settings.MetadataProxySocket,
        ["nova_metadata_host"] = Settings.NovaMetadataHost,
        ["nova_metadata_port"] = Settings.NovaMetadataPort,
        ["log_agent_heartbeats"] = Settings.LogAgentHeartbeats,
    };

    protected override Task ExecuteAsync(CancellationToken stop) => Task.WhenAll(base.ExecuteAsync(stop), ServeAsync(stop));

    async Task ServeAsync(CancellationToken stop)
    {
        var socket = Settings.MetadataProxySocket;
        Directory.CreateDirectory(Path.GetDirectoryName(socket)!);
        // A socket file left by a previous run would keep Kestrel from binding.
        File.Delete(socket);
        var builder = ServiceHost.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socket));
        await using var app = builder.Build();
        app.Run(ProxyAsync);
        await app.StartAsync(stop);
        try
        {
            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException)
        {
        }
        await app.StopAsync(CancellationToken.None);
        File.Delete(socket);
    }

    async Task ProxyAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        try
        {
            var (instance, tenant) = await InstanceOfAsync(http.Request, ct);
            if (instance is null || tenant is null)
            {
                await PlainAsync(http, HttpStatusCode.NotFound, "The resource could not be found.");
                return;
            }
            await ForwardAsync(http, instance, tenant, ct);
        }
        catch (Exception e) when (e is RpcTimeoutException or RpcRemoteException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            _log.LogError("Unexpected error in the metadata proxy: {Error}", e.Message);
            await PlainAsync(http, HttpStatusCode.InternalServerError, "An unknown error has occurred. Please try your request again.");
        }
    }

    /// <summary>Neutron's _get_instance_and_tenant_id: the one port with the request's address on the proxy's network (or its router's networks).</summary>
    async Task<(string? Instance, string? Tenant)> InstanceOfAsync(HttpRequest request, CancellationToken ct)
    {
        string? network = request.Headers["X-Neutron-Network-ID"], router = request.Headers["X-Neutron-Router-ID"];
        // Only one may be given: the other could be the guest's own header, spoofed.
        if (network is not null && router is not null || network is null && router is null) return (null, null);
        if (!IPAddress.TryParse(request.Headers["X-Forwarded-For"].ToString().Split(',')[0].Trim(), out var from)) return (null, null);
        string? mac = null;
        if (from.IsIPv4MappedToIPv6) from = from.MapToIPv4();
        else if (from.IsIPv6LinkLocal) mac = MacOfLinkLocal(from);

        IReadOnlyList<string> networks = network is not null
            ? [network]
            : [.. (await plugin.CallAsync(new GetPorts { RouterId = router }, ct)).Select(p => p.NetworkId).Distinct()];
        if (networks.Count == 0) return (null, null);
        var ports = await plugin.CallAsync(new GetPorts { NetworkId = networks, IpAddress = mac is null ? from.ToString() : null, MacAddress = mac }, ct);
        return ports.Count == 1 ? (ports[0].DeviceId, ports[0].TenantId) : (null, null);
    }

    /// <summary>The MAC an EUI-64 link-local address is made from (netutils.get_mac_addr_by_ipv6).</summary>
    static string MacOfLinkLocal(IPAddress address)
    {
        var b = address.GetAddressBytes();
        byte[] mac = [(byte)(b[8] ^ 0x02), b[9], b[10], b[13], b[14], b[15]];
        return string.Join(':', mac.Select(x => x.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    public static string Sign(string secret, string instanceId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(instanceId)));

    async Task ForwardAsync(HttpContext http, string instance, string tenant, CancellationToken ct)
    {
        var host = Settings.NovaMetadataHost.Contains(':') ? $"[{Settings.NovaMetadataHost}]" : Settings.NovaMetadataHost;
        var url = $"http://{host}:{Settings.NovaMetadataPort}{http.Request.Path}{http.Request.QueryString}";
        using var forward = new HttpRequestMessage(new HttpMethod(http.Request.Method), url);
        forward.Headers.TryAddWithoutValidation("X-Forwarded-For", http.Request.Headers["X-Forwarded-For"].ToString());
        forward.Headers.Add("X-Instance-ID", instance);
        forward.Headers.Add("X-Tenant-ID", tenant);
        forward.Headers.Add("X-Instance-ID-Signature", Sign(Settings.MetadataProxySharedSecret, instance));
        if (http.Request.ContentLength > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body, ct);
            forward.Content = new ByteArrayContent(body.ToArray());
            if (http.Request.ContentType is { } type) forward.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        }
        using var response = await Nova.SendAsync(forward, ct);
        switch (response.StatusCode)
        {
            case HttpStatusCode.OK:
                http.Response.StatusCode = 200;
                http.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "text/plain";
                await response.Content.CopyToAsync(http.Response.Body, ct);
                return;
            case HttpStatusCode.Forbidden:
                _log.LogWarning("The remote metadata server responded with Forbidden. This response usually occurs when shared secrets do not match.");
                await PlainAsync(http, HttpStatusCode.Forbidden, "Access was denied to this resource.");
                return;
            case HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.Conflict:
                await PlainAsync(http, response.StatusCode, response.StatusCode.ToString());
                return;
            default:
                _log.LogWarning("Remote metadata server experienced an internal server error ({Status}).", (int)response.StatusCode);
                await PlainAsync(http, HttpStatusCode.InternalServerError, "Remote metadata server experienced an internal server error.");
                return;
        }
    }

    static Task PlainAsync(HttpContext http, HttpStatusCode status, string text)
    {
        http.Response.StatusCode = (int)status;
        http.Response.ContentType = "text/plain; charset=UTF-8";
        return http.Response.WriteAsync($"{(int)status} {status}\n\n{text}");
    }
}
