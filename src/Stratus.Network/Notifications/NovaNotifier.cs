using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Stratus.Core.Catalog;

namespace Stratus.Network.Notifications;

/// <summary>
/// Neutron's nova notifier (<c>[nova]</c>, <c>notify_nova_on_port_status_changes</c>): a compute port
/// going ACTIVE is <c>network-vif-plugged</c>, going DOWN from ACTIVE <c>network-vif-unplugged</c>, a
/// deleted one <c>network-vif-deleted</c>, a change of its floating IPs <c>network-changed</c>, each sent to <c>POST /os-server-external-events</c> of the
/// compute service the catalog has in <c>[nova] region_name</c>, as <c>[nova]</c>'s user. A wrong region
/// or user shows in the log as Neutron logs it, and the port's state is not held back by it.
/// </summary>
public sealed class NovaNotifier(NetworkOptions options, ILogger<NovaNotifier> log) : IDisposable
{
    readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
    KeystoneSession? _session;

    KeystoneSession? Session => options.Nova is null ? null : _session ??= new KeystoneSession(options.Nova, _http);

    /// <summary>One event for Nova.</summary>
    public sealed record ServerEvent(string Name, string ServerUuid, string Tag, string Status = "completed");

    /// <summary>The event a port's status change is to Nova, or null when Nova is not told (not a server's port, no change it waits for).</summary>
    public ServerEvent? ForStatusChange(PortRow port, string before, string after)
    {
        if (!options.NotifyNovaOnPortStatusChanges || !port.DeviceOwner.StartsWith("compute:", StringComparison.Ordinal) || port.DeviceId.Length == 0) return null;
        return (before, after) switch
        {
            (not "ACTIVE", "ACTIVE") => new ServerEvent("network-vif-plugged", port.DeviceId, port.Id),
            ("ACTIVE", "DOWN") => new ServerEvent("network-vif-unplugged", port.DeviceId, port.Id),
            (_, "ERROR") => new ServerEvent("network-vif-plugged", port.DeviceId, port.Id, "failed"),
            _ => null,
        };
    }

    public ServerEvent? ForDeletion(PortRow port) =>
        ForData(port) ? new ServerEvent("network-vif-deleted", port.DeviceId, port.Id) : null;

    /// <summary>A floating IP of a server's port made, moved or deleted: <c>network-changed</c>, for Nova to refresh what it shows of the port.</summary>
    public ServerEvent? ForNetworkChange(PortRow? port) =>
        port is not null && ForData(port) ? new ServerEvent("network-changed", port.DeviceId, port.Id) : null;

    bool ForData(PortRow port) =>
        options.NotifyNovaOnPortDataChanges && port.DeviceOwner.StartsWith("compute:", StringComparison.Ordinal) && port.DeviceId.Length > 0;

    /// <summary>Sends the events; Nova's answer per event (its code), or null when Nova could not be told (logged).</summary>
    public async Task<IReadOnlyList<int>?> SendAsync(IReadOnlyList<ServerEvent> events, CancellationToken ct)
    {
        if (events.Count == 0) return [];
        if (Session is not { } session)
        {
            log.LogWarning("Failed to notify nova on events {Events}: [nova] is not configured in {Config}", Describe(events), options.ConfigPath);
            return null;
        }
        var body = new JsonObject
        {
            ["events"] = new JsonArray([.. events.Select(e => (JsonNode)new JsonObject
            {
                ["name"] = e.Name, ["server_uuid"] = e.ServerUuid, ["tag"] = e.Tag, ["status"] = e.Status,
            })]),
        };
        try
        {
            using var response = await session.SendAsync(new PeerEndpoint("compute", null, options.Nova!.RegionName), endpoint =>
                new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.ToString().TrimEnd('/') + "/os-server-external-events")) { Content = JsonContent.Create(body) },
                HttpCompletionOption.ResponseContentRead, ct);
            var answer = await response.Content.ReadFromJsonAsync<JsonObject>(ct);
            var codes = (answer?["events"] as JsonArray ?? []).Select(e => (int?)e?["code"] ?? 0).ToList();
            foreach (var (e, code) in events.Zip(codes))
                if (code != 200) log.LogWarning("Nova event: {Event} returned with failed status", $"{e.Name} {e.ServerUuid} {e.Tag}: {code}");
            if (!response.IsSuccessStatusCode && codes.Count == 0)
                log.LogError("Failed to notify nova on events {Events}: HTTP {Status}", Describe(events), (int)response.StatusCode);
            return codes;
        }
        catch (Exception e) when (e is EndpointNotFoundException or IdentityUnreachableException or ServiceCredentialsRejectedException
            or PeerUnreachableException or HttpRequestException or System.Text.Json.JsonException)
        {
            // Neutron's words when the region has no compute, or the [nova] user cannot log in.
            log.LogError("Failed to notify nova on events {Events}: {Error} (check [nova] in {Config})", Describe(events), e.Message, options.ConfigPath);
            return null;
        }
    }

    static string Describe(IEnumerable<ServerEvent> events) => string.Join(", ", events.Select(e => $"{e.Name}:{e.ServerUuid}:{e.Tag}"));

    public void Dispose() => _http.Dispose();
}
