using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Stratus.Compute.Api;
using Stratus.Compute.Network;
using Stratus.Compute.Rpc;

namespace Stratus.Compute.Metadata;

/// <summary>
/// The metadata Nova serves a guest: the OpenStack flavour (<c>/openstack/latest/meta_data.json</c>,
/// <c>user_data</c>, <c>network_data.json</c>, vendor data) and the EC2 one (<c>/latest/meta-data/...</c>,
/// <c>/latest/user-data</c>), for the instance the proxy's signed headers name.
/// </summary>
static class MetadataApi
{
    static readonly string[] OpenStackVersions = ["2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30", "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14", "latest"];
    static readonly string[] Ec2Versions = ["1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04", "latest"];

    public static void MapMetadataApi(this WebApplication app)
    {
        app.MapGet("/", () => Text(string.Join("\n", Ec2Versions)));
        app.MapGet("/openstack", () => Text(string.Join("\n", OpenStackVersions)));
        app.MapGet("/openstack/{version}", (string version) => OpenStackVersions.Contains(version)
            ? Text("meta_data.json\npassword\nvendor_data.json\nnetwork_data.json\nvendor_data2.json\nuser_data")
            : Results.NotFound());
        app.MapGet("/openstack/{version}/{item}", OpenStackAsync);
        app.MapGet("/{version}/user-data", async (string version, HttpContext http, CellDb db, NovaOptions options, ILogger log, CancellationToken ct) =>
        {
            var i = await InstanceAsync(http, db, options, log, ct);
            return i is null ? Forbidden() : UserData(i);
        });
        app.MapGet("/{version}/meta-data/{**path}", Ec2Async);
    }

    static IResult Text(string body, string type = "text/plain") => Results.Text(body, type, Encoding.UTF8);

    static IResult Forbidden() => Results.Text("403 Forbidden\n\nInvalid proxy request signature.", "text/plain", Encoding.UTF8, 403);

    /// <summary>The instance the proxy names, when its signature is right; null (and a warning in the log) when not.</summary>
    static async Task<Instance?> InstanceAsync(HttpContext http, CellDb db, NovaOptions options, ILogger log, CancellationToken ct)
    {
        var id = http.Request.Headers["X-Instance-ID"].FirstOrDefault();
        var project = http.Request.Headers["X-Tenant-ID"].FirstOrDefault();
        var signature = http.Request.Headers["X-Instance-ID-Signature"].FirstOrDefault();
        var from = http.Request.Headers["X-Forwarded-For"].FirstOrDefault() ?? http.Connection.RemoteIpAddress?.ToString();
        if (!options.ServiceMetadataProxy || id is null || project is null)
        {
            log.LogWarning("X-Instance-ID or X-Tenant-ID header is missing from request from {Remote}: the metadata API answers the network service's proxy only", from);
            return null;
        }
        if (!MetadataServer.SignatureValid(options.MetadataProxySharedSecret, id, signature))
        {
            log.LogWarning("X-Instance-ID-Signature: {Signature} does not match the expected value for instance {Id}. Request From: {Remote}", signature, id, from);
            return null;
        }
        var instance = await db.Instances.AsNoTracking().FirstOrDefaultAsync(i => i.Uuid == id && !i.Deleted, ct);
        if (instance is null || instance.ProjectId != project)
        {
            log.LogWarning("Tenant_id {Project} does not match tenant_id of instance {Id}.", project, id);
            return null;
        }
        return instance;
    }

    static IResult UserData(Instance i) =>
        i.UserData is { Length: > 0 } data ? Results.Bytes(Convert.FromBase64String(data), "text/plain") : Results.NotFound();

    static async Task<IResult> OpenStackAsync(string version, string item, HttpContext http, CellDb db, NovaOptions options, ILogger log, CancellationToken ct)
    {
        if (!OpenStackVersions.Contains(version)) return Results.NotFound();
        var i = await InstanceAsync(http, db, options, log, ct);
        if (i is null) return Forbidden();
        return item switch
        {
            "meta_data.json" => new JsonResponse(MetaData(i)),
            "network_data.json" => new JsonResponse(NetworkData(ServerNetworks.Vifs(i.NetworkInfoJson))),
            "user_data" => UserData(i),
            "vendor_data.json" or "vendor_data2.json" => new JsonResponse(new JsonObject()),
            "password" => Text(""),
            _ => Results.NotFound(),
        };
    }

    /// <summary>
    /// The config drive's files as Nova's metadata_for_config_drive lays them out: each OpenStack version's
    /// documents (network_data.json from 2015-10-15, vendor_data2.json from 2016-10-06), and the personality
    /// files under <c>openstack/content/</c>, listed by meta_data.json's "files". The EC2 tree is served only.
    /// </summary>
    public static Dictionary<string, byte[]> ConfigDriveFiles(JsonObject metaData, byte[]? userData, JsonObject networkData,
        IReadOnlyList<InjectedFile>? injectedFiles = null)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        static byte[] Json(JsonNode n) => Encoding.UTF8.GetBytes(n.ToJsonString());
        if (injectedFiles is { Count: > 0 })
        {
            metaData = (JsonObject)metaData.DeepClone();
            var listed = new JsonArray();
            foreach (var (file, n) in injectedFiles.Select((f, n) => (f, n)))
            {
                var key = n.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
                files[$"openstack/content/{key}"] = Convert.FromBase64String(file.Contents);
                listed.Add(new JsonObject { ["path"] = file.Path, ["content_path"] = $"/content/{key}" });
            }
            metaData["files"] = listed;
        }
        foreach (var v in OpenStackVersions)
        {
            files[$"openstack/{v}/meta_data.json"] = Json(metaData);
            files[$"openstack/{v}/vendor_data.json"] = Json(new JsonObject());
            if (userData is not null) files[$"openstack/{v}/user_data"] = userData;
            if (v == "latest" || string.CompareOrdinal(v, "2015-10-15") >= 0) files[$"openstack/{v}/network_data.json"] = Json(networkData);
            if (v == "latest" || string.CompareOrdinal(v, "2016-10-06") >= 0) files[$"openstack/{v}/vendor_data2.json"] = Json(new JsonObject());
        }
        return files;
    }

    /// <summary>meta_data.json as Nova's InstanceMetadata builds it.</summary>
    public static JsonObject MetaData(Instance i)
    {
        var o = new JsonObject
        {
            ["uuid"] = i.Uuid,
            ["meta"] = JsonNode.Parse(i.MetadataJson),
            ["hostname"] = i.Hostname,
            ["name"] = i.DisplayName,
            ["launch_index"] = i.LaunchIndex,
            ["availability_zone"] = i.AvailabilityZone,
            ["project_id"] = i.ProjectId,
            ["devices"] = new JsonArray(),
            ["dedicated_cpus"] = new JsonArray(),
        };
        if (i.KeyName is not null && i.KeyData is not null)
        {
            o["public_keys"] = new JsonObject { [i.KeyName] = i.KeyData };
            o["keys"] = new JsonArray(new JsonObject { ["name"] = i.KeyName, ["type"] = "ssh", ["data"] = i.KeyData });
        }
        return o;
    }

    /// <summary>network_data.json: a link per NIC, a network per fixed address (with its routes and DNS), the DNS services.</summary>
    public static JsonObject NetworkData(IReadOnlyList<Vif> vifs)
    {
        var links = new JsonArray();
        var networks = new JsonArray();
        var services = new JsonArray();
        var n = 0;
        foreach (var vif in vifs)
        {
            links.Add(new JsonObject
            {
                ["id"] = vif.TapDevice, ["vif_id"] = vif.PortId, ["type"] = "bridge", ["mtu"] = vif.Mtu, ["ethernet_mac_address"] = vif.MacAddress,
            });
            foreach (var a in vif.Addresses)
            {
                var prefix = a.Cidr is { } c && c.IndexOf('/') is var slash and > 0 ? int.Parse(c[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture) : (a.Version == 4 ? 32 : 128);
                var net = new JsonObject
                {
                    ["id"] = $"network{n++}", ["type"] = a.Version == 4 ? "ipv4" : "ipv6", ["link"] = vif.TapDevice, ["ip_address"] = a.Address,
                    ["netmask"] = a.Version == 4 ? Netmask(prefix) : Ipv6Netmask(prefix), ["network_id"] = vif.NetworkId,
                    ["routes"] = a.Gateway is null ? new JsonArray() : new JsonArray(new JsonObject
                    {
                        ["network"] = a.Version == 4 ? "0.0.0.0" : "::", ["netmask"] = a.Version == 4 ? "0.0.0.0" : "::", ["gateway"] = a.Gateway,
                    }),
                    ["services"] = new JsonArray([.. a.DnsServers.Select(d => (JsonNode)new JsonObject { ["type"] = "dns", ["address"] = d })]),
                };
                networks.Add(net);
                foreach (var d in a.DnsServers)
                    if (!services.Any(s => (string?)s!["address"] == d)) services.Add(new JsonObject { ["type"] = "dns", ["address"] = d });
            }
        }
        return new JsonObject { ["links"] = links, ["networks"] = networks, ["services"] = services };
    }

    static string Netmask(int prefix) => new IPAddress(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(prefix == 0 ? 0u : uint.MaxValue << (32 - prefix)))).ToString();

    static string Ipv6Netmask(int prefix)
    {
        var bytes = new byte[16];
        for (var b = 0; b < prefix; b++) bytes[b / 8] |= (byte)(0x80 >> (b % 8));
        return new IPAddress(bytes).ToString();
    }

    /// <summary>The EC2 flavour: a listing at each level, a value at each leaf.</summary>
    static async Task<IResult> Ec2Async(string version, string? path, HttpContext http, CellDb db, NovaOptions options, ILogger log, CancellationToken ct)
    {
        if (!Ec2Versions.Contains(version)) return Results.NotFound();
        var i = await InstanceAsync(http, db, options, log, ct);
        if (i is null) return Forbidden();
        var vifs = ServerNetworks.Vifs(i.NetworkInfoJson);
        var ipv4 = vifs.SelectMany(v => v.Addresses).FirstOrDefault(a => a.Version == 4)?.Address ?? "";
        var tree = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["ami-id"] = "ami-" + i.ImageRef[..Math.Min(8, i.ImageRef.Length)],
            ["ami-launch-index"] = i.LaunchIndex.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Nova answers this literal: EC2 manifests never existed in OpenStack.
            ["ami-manifest-path"] = "FIXME",
            ["hostname"] = i.Hostname,
            ["instance-action"] = "none",
            ["instance-id"] = "i-" + i.Uuid[..8],
            ["instance-type"] = InstanceFlavor.Parse(i.FlavorJson).Name,
            ["local-hostname"] = i.Hostname,
            ["local-ipv4"] = ipv4,
            ["placement"] = new Dictionary<string, object> { ["availability-zone"] = i.AvailabilityZone ?? "" },
            ["public-hostname"] = i.Hostname,
            ["public-ipv4"] = "",
            ["reservation-id"] = "r-" + i.Uuid[..8],
            ["security-groups"] = "default",
        };
        if (i.KeyName is not null && i.KeyData is not null)
            tree["public-keys"] = new Dictionary<string, object> { ["0=" + i.KeyName] = new Dictionary<string, object> { ["openssh-key"] = i.KeyData } };
        object node = tree;
        foreach (var part in (path ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (node is not Dictionary<string, object> d) return Results.NotFound();
            // public-keys/0 addresses the key named "0=name".
            var key = d.Keys.FirstOrDefault(k => k == part || k.StartsWith(part + "=", StringComparison.Ordinal));
            if (key is null) return Results.NotFound();
            node = d[key];
        }
        return node switch
        {
            string s => Text(s),
            Dictionary<string, object> d => Text(string.Join("\n", d.Select(kv => kv.Value is Dictionary<string, object> && !kv.Key.Contains('=') ? kv.Key + "/" : kv.Key))),
            _ => Results.NotFound(),
        };
    }
}
