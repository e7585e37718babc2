using System.Globalization;
using System.Security.Cryptography;
using Stratus.Compute.Network;
using System.Text;

namespace Stratus.Compute.Api;

/// <summary>A server as Nova shows it, for the request's microversion and the caller's role.</summary>
static class ServerView
{
    /// <summary>Nova's status from vm_state and task_state (nova.api.openstack.common.status_from_state).</summary>
    public static string Status(Instance i) => (i.VmState, i.TaskState) switch
    {
        (VmStates.Building, _) => "BUILD",
        (VmStates.Active, TaskStates.Rebooting) => "REBOOT",
        (VmStates.Active, TaskStates.RebootingHard) => "HARD_REBOOT",
        (VmStates.Active or VmStates.Stopped, TaskStates.Rebuilding) => "REBUILD",
        (VmStates.Active or VmStates.Stopped, TaskStates.ResizePrep or TaskStates.ResizeFinish) => "RESIZE",
        (VmStates.Resized, TaskStates.ResizeReverting) => "REVERT_RESIZE",
        (VmStates.Resized, _) => "VERIFY_RESIZE",
        (VmStates.Active, _) => "ACTIVE",
        (VmStates.Stopped, _) => "SHUTOFF",
        (VmStates.Paused, _) => "PAUSED",
        (VmStates.Suspended, _) => "SUSPENDED",
        (VmStates.Error, _) => "ERROR",
        (VmStates.Deleted, _) => "DELETED",
        _ => "UNKNOWN",
    };

    public static string Time(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    static string? UsageTime(DateTime? t) => t?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    public static JsonObject Brief(HttpContext http, Instance i) => new()
    {
        ["id"] = i.Uuid,
        ["name"] = i.DisplayName,
        ["links"] = Links.For(http, "servers", i.Uuid),
    };

    /// <summary>
    /// Which parts a view has (Nova's view builder flags): PUT and rebuild answer with the basic view
    /// before 2.75; only a single server's GET (and PUT and rebuild) shows its server groups (2.71).
    /// <see cref="SecurityGroups"/> are its ports' groups, shown when it has any (<see cref="SecurityGroupsApi.OfServersAsync"/>).
    /// </summary>
    public sealed record Parts(bool Full = true, bool KeyName = true, bool UserData = true, bool ServerGroups = false, IReadOnlyList<string>? Groups = null,
        JsonArray? SecurityGroups = null)
    {
        /// <summary>The server's volumes (its block device mappings), for <c>os-extended-volumes:volumes_attached</c>.</summary>
        public IReadOnlyList<BlockDeviceMapping> Volumes { get; init; } = [];
    }

    /// <summary>The block device mappings of these servers, by server.</summary>
    public static async Task<Dictionary<string, List<BlockDeviceMapping>>> VolumesOfAsync(CellDb db, IReadOnlyCollection<string> uuids, CancellationToken ct) =>
        uuids.Count == 0 ? [] : (await db.BlockDeviceMappings.Where(b => uuids.Contains(b.InstanceUuid)).OrderBy(b => b.CreatedAt).ToListAsync(ct))
            .GroupBy(b => b.InstanceUuid).ToDictionary(g => g.Key, g => g.ToList());

    public static JsonObject Detail(HttpContext http, Instance i, InstanceFault? fault, Parts? parts = null)
    {
        parts ??= new Parts();
        var v = Microversion.Of(http);
        var admin = http.Caller().IsAdmin;
        var flavor = InstanceFlavor.Parse(i.FlavorJson);
        var o = Brief(http, i);
        o["status"] = Status(i);
        o["tenant_id"] = i.ProjectId;
        o["user_id"] = i.UserId;
        o["metadata"] = JsonNode.Parse(i.MetadataJson);
        o["hostId"] = i.Host is null ? "" : Convert.ToHexStringLower(SHA224Compat(i.ProjectId + i.Host));
        o["image"] = string.IsNullOrEmpty(i.ImageRef) ? "" : new JsonObject
        {
            ["id"] = i.ImageRef,
            ["links"] = new JsonArray(new JsonObject { ["rel"] = "bookmark", ["href"] = $"{http.Request.Scheme}://{http.Request.Host}/images/{i.ImageRef}" }),
        };
        o["flavor"] = v.AtLeast(47)
            ? new JsonObject
            {
                ["vcpus"] = flavor.Vcpus, ["ram"] = flavor.MemoryMb, ["disk"] = flavor.RootGb, ["ephemeral"] = flavor.EphemeralGb, ["swap"] = flavor.Swap,
                ["original_name"] = flavor.Name, ["extra_specs"] = new JsonObject(flavor.ExtraSpecs.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))),
            }
            : new JsonObject
            {
                ["id"] = flavor.FlavorId,
                ["links"] = new JsonArray(new JsonObject { ["rel"] = "bookmark", ["href"] = $"{http.Request.Scheme}://{http.Request.Host}/flavors/{flavor.FlavorId}" }),
            };
        o["created"] = Time(i.CreatedAt);
        o["updated"] = Time(i.UpdatedAt);
        o["addresses"] = ServerNetworks.Addresses(i.NetworkInfoJson, extended: parts.Full);
        o["accessIPv4"] = i.AccessIpV4 ?? "";
        o["accessIPv6"] = i.AccessIpV6 ?? "";
        o["OS-DCF:diskConfig"] = i.AutoDiskConfig ? "AUTO" : "MANUAL";
        if (o["status"]!.GetValue<string>() is "BUILD" or "ACTIVE" or "REBUILD" or "RESIZE" or "VERIFY_RESIZE") o["progress"] = i.Progress;
        if (parts.Full)
        {
            o["OS-EXT-AZ:availability_zone"] = i.AvailabilityZone ?? "";
            o["config_drive"] = i.ConfigDrive ? "True" : "";
        }
        if (parts.Full || parts.KeyName) o["key_name"] = i.KeyName;
        if (parts.Full)
        {
            o["OS-SRV-USG:launched_at"] = UsageTime(i.LaunchedAt);
            o["OS-SRV-USG:terminated_at"] = UsageTime(i.TerminatedAt);
            o["OS-EXT-STS:task_state"] = i.TaskState;
            o["OS-EXT-STS:vm_state"] = i.VmState;
            o["OS-EXT-STS:power_state"] = i.PowerState;
            o["os-extended-volumes:volumes_attached"] = new JsonArray([.. parts.Volumes.Where(b => b.VolumeId is not null).Select(b => (JsonNode)(v.AtLeast(3)
                ? new JsonObject { ["id"] = b.VolumeId, ["delete_on_termination"] = b.DeleteOnTermination }
                : new JsonObject { ["id"] = b.VolumeId }))]);
        }
        if (admin && parts.Full)
        {
            o["OS-EXT-SRV-ATTR:host"] = i.Host;
            o["OS-EXT-SRV-ATTR:instance_name"] = InstanceName(i);
            o["OS-EXT-SRV-ATTR:hypervisor_hostname"] = i.Node;
            if (v.AtLeast(3))
            {
                o["OS-EXT-SRV-ATTR:reservation_id"] = "r-" + i.Uuid[..8];
                o["OS-EXT-SRV-ATTR:launch_index"] = 0;
                o["OS-EXT-SRV-ATTR:kernel_id"] = "";
                o["OS-EXT-SRV-ATTR:ramdisk_id"] = "";
                o["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda";
                if (parts.UserData) o["OS-EXT-SRV-ATTR:user_data"] = i.UserData;
            }
        }
        if (v.AtLeast(90) && !(admin && parts.Full)) o["OS-EXT-SRV-ATTR:hostname"] = i.Hostname;
        if (parts.SecurityGroups is { Count: > 0 } securityGroups) o["security_groups"] = securityGroups;
        if (v.AtLeast(9)) o["locked"] = i.Locked;
        if (v.AtLeast(16) && admin && parts.Full) o["host_status"] = i.Host is null ? "" : "UP";
        if (v.AtLeast(19)) o["description"] = i.Description;
        if (v.AtLeast(26)) o["tags"] = JsonNode.Parse(i.TagsJson);
        if (v.AtLeast(63)) o["trusted_image_certificates"] = null;
        if (v.AtLeast(71) && parts.ServerGroups) o["server_groups"] = new JsonArray([.. (parts.Groups ?? []).Select(g => (JsonNode)g)]);
        if (v.AtLeast(73)) o["locked_reason"] = i.LockedReason;
        if (fault is not null && i.VmState is VmStates.Error or VmStates.Deleted)
        {
            var f = new JsonObject { ["code"] = fault.Code, ["created"] = Time(fault.CreatedAt), ["message"] = fault.Message };
            // Nova hides a 500 fault's details from non-admins: they may show the host's internals.
            if (admin || fault.Code != 500) f["details"] = fault.Details;
            o["fault"] = f;
        }
        return o;
    }

    /// <summary>libvirt's domain name as Nova shows it (instance-%08x of the row id; here from the uuid).</summary>
    public static string InstanceName(Instance i) => "instance-" + i.Uuid[..8];

    /// <summary>Nova's hostname from a display name (nova.utils.sanitize_hostname): at most 63 characters, ' ', '_' and '.' become '-'.</summary>
    public static string Hostname(string name, string uuid)
    {
        var h = new string([.. name.Where(c => c <= '\u00ff')]);
        if (h.Length > 63) h = h[..63];
        h = System.Text.RegularExpressions.Regex.Replace(h, @"[ _\.]", "-");
        h = System.Text.RegularExpressions.Regex.Replace(h, @"[^\w.-]+", "");
        h = h.ToLowerInvariant().Trim('.', '-');
        return h.Length > 0 ? h : ("Server-" + uuid)[..Math.Min(63, 7 + uuid.Length)];
    }

    static byte[] SHA224Compat(string text)
    {
        // Nova's hostId is sha224(project_id + host); .NET has no SHA-224, so SHA-256 cut to 28 bytes keeps its length and role.
        return SHA256.HashData(Encoding.UTF8.GetBytes(text))[..28];
    }
}
