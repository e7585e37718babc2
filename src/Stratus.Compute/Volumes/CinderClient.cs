using System.Net;
using System.Net.Http.Json;
using Stratus.Core.Catalog;

namespace Stratus.Compute.Volumes;

/// <summary>
/// Nova's cinder client (nova.volume.cinder): the block storage endpoint of <c>[cinder] catalog_info</c>
/// (volumev3, public) in <c>[cinder] os_region_name</c> — or, as keystoneauth does without a region, the
/// first such endpoint in the catalog, whichever region it is in — spoken with the user's token and
/// project, at volume microversion 3.44 (the attachments API Nova Zed uses).
/// </summary>
public sealed class CinderClient(KeystoneSession session, NovaOptions options)
{
    const string Microversion = "volume 3.44";

    public string Source => $"{options.ConfigPath} [cinder]";

    async Task<string> EndpointAsync(string projectId, CancellationToken ct)
    {
        if (options.CinderEndpointTemplate is { Length: > 0 } template)
            return template.Replace("%(project_id)s", projectId, StringComparison.Ordinal).Replace("%(tenant)s", projectId, StringComparison.Ordinal).TrimEnd('/');
        var parts = options.CinderCatalogInfo.Split(':');
        if (parts.Length != 3) throw new CinderException(0, $"catalog_info in {Source} must be service_type:service_name:interface, not '{options.CinderCatalogInfo}'.");
        try
        {
            // The identity fills a token's catalog in with the token's project: the service's here, where Nova has the
            // user's catalog. The user's endpoint is the same URL with their project in its place.
            var token = await session.GetTokenAsync(ct);
            var url = token.Catalog.EndpointFor(parts[0], parts[2], options.CinderRegion, projectId).TrimEnd('/');
            return token.ProjectId is { Length: > 0 } service ? url.Replace("/" + service, "/" + projectId, StringComparison.Ordinal) : url;
        }
        catch (EndpointNotFoundException e)
        {
            throw new CinderException(0, $"{e.Message} Check os_region_name in {Source}.");
        }
        catch (Exception e) when (e is IdentityUnreachableException or ServiceCredentialsRejectedException or KeystoneLoginException)
        {
            throw new CinderException(0, $"{Source} could not find the block storage service: {e.Message}");
        }
    }

    /// <summary>A request as the user: the answer's body when 2xx, null on 404; <see cref="CinderException"/> with Cinder's message otherwise.</summary>
    public async Task<JsonObject?> SendAsync(HttpMethod method, string path, JsonObject? body, string token, string projectId, CancellationToken ct)
    {
        var endpoint = await EndpointAsync(projectId, ct);
        using var request = new HttpRequestMessage(method, endpoint + path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add("X-Auth-Token", token);
        request.Headers.Add("OpenStack-API-Version", Microversion);
        HttpResponseMessage response;
        try
        {
            response = await session.Http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new CinderException(0, $"the block storage service at {endpoint} could not be reached: {e.Message}");
        }
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.NotFound) return null;
            var text = await response.Content.ReadAsStringAsync(ct);
            JsonObject? json = null;
            try
            {
                json = text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null;
            }
            catch (System.Text.Json.JsonException)
            {
            }
            if (!response.IsSuccessStatusCode)
            {
                // Cinder's faults ({"badRequest": {"code": 400, "message": "..."}}) as cinderclient words them, which Nova passes on:
                // "Invalid image identifier or unable to access requested image. (HTTP 400) (Request-ID: req-...)".
                var status = (int)response.StatusCode;
                var message = json?.FirstOrDefault().Value?["message"]?.GetValue<string>() ?? $"{method} {endpoint}{path} failed";
                var requestId = response.Headers.TryGetValues("x-openstack-request-id", out var ids) ? $" (Request-ID: {ids.First()})" : "";
                throw new CinderException(status, $"{message} (HTTP {status}){requestId}");
            }
            return json ?? [];
        }
    }

    public async Task<JsonObject?> GetVolumeAsync(string volumeId, string token, string projectId, CancellationToken ct) =>
        (await SendAsync(HttpMethod.Get, $"/volumes/{Uri.EscapeDataString(volumeId)}", null, token, projectId, ct))?["volume"] as JsonObject;

    /// <summary>attachment_create without a connector: the volume is reserved for the instance.</summary>
    public async Task<string> CreateAttachmentAsync(string volumeId, string instanceUuid, string token, string projectId, CancellationToken ct)
    {
        var answer = await SendAsync(HttpMethod.Post, "/attachments", new JsonObject
        {
            ["attachment"] = new JsonObject { ["volume_uuid"] = volumeId, ["instance_uuid"] = instanceUuid },
        }, token, projectId, ct) ?? throw new CinderException(404, $"Volume {volumeId} could not be found.");
        return (string?)answer["attachment"]?["id"] ?? throw new CinderException(500, "the block storage service made an attachment without an id");
    }

    /// <summary>attachment_update with the host's connector (and, as Nova adds it, the guest's device): the volume's connection info for this host.</summary>
    public async Task<JsonObject> UpdateAttachmentAsync(string attachmentId, JsonObject connector, string? mountpoint, string token, string projectId, CancellationToken ct)
    {
        if (mountpoint is not null) connector["mountpoint"] = mountpoint;
        var answer = await SendAsync(HttpMethod.Put, $"/attachments/{attachmentId}", new JsonObject
        {
            ["attachment"] = new JsonObject { ["connector"] = connector },
        }, token, projectId, ct) ?? throw new CinderException(404, $"Attachment {attachmentId} could not be found.");
        return answer["attachment"]?["connection_info"] as JsonObject ?? throw new CinderException(500, $"attachment {attachmentId} has no connection_info");
    }

    public Task CompleteAttachmentAsync(string attachmentId, string token, string projectId, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, $"/attachments/{attachmentId}/action", new JsonObject { ["os-complete"] = null }, token, projectId, ct);

    /// <summary>attachment_delete: the volume is free again (available) once it has no other attachment. A missing attachment is gone already.</summary>
    public Task DeleteAttachmentAsync(string attachmentId, string token, string projectId, CancellationToken ct) =>
        SendAsync(HttpMethod.Delete, $"/attachments/{attachmentId}", null, token, projectId, ct);

    /// <summary>A deleted server's volume: its attachment deleted, then the volume too when it was marked delete_on_termination.</summary>
    public async Task ReleaseAsync(Rpc.VolumeAttachment volume, string token, string projectId, CancellationToken ct)
    {
        await DeleteAttachmentAsync(volume.AttachmentId, token, projectId, ct);
        if (volume.DeleteOnTermination) await DeleteVolumeAsync(volume.VolumeId, token, projectId, ct);
    }

    public Task BeginDetachingAsync(string volumeId, string token, string projectId, CancellationToken ct) => VolumeActionAsync(volumeId, "os-begin_detaching", token, projectId, ct);

    public Task RollDetachingAsync(string volumeId, string token, string projectId, CancellationToken ct) => VolumeActionAsync(volumeId, "os-roll_detaching", token, projectId, ct);

    public Task DeleteVolumeAsync(string volumeId, string token, string projectId, CancellationToken ct) =>
        SendAsync(HttpMethod.Delete, $"/volumes/{Uri.EscapeDataString(volumeId)}", null, token, projectId, ct);

    Task VolumeActionAsync(string volumeId, string action, string token, string projectId, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, $"/volumes/{Uri.EscapeDataString(volumeId)}/action", new JsonObject { [action] = new JsonObject() }, token, projectId, ct);
}

/// <summary>The block storage service refused (<see cref="Status"/>), or could not be found or reached (0).</summary>
public sealed class CinderException(int status, string message) : Exception(message)
{
    public int Status => status;
}
