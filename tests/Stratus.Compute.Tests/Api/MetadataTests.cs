using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Stratus.Compute.Tests.Api;

/// <summary>Nova's metadata API on 8775, as the network service's proxy reaches it: signed instance headers, the OpenStack and EC2 trees.</summary>
public sealed class MetadataTests(ComputeServer server) : IClassFixture<ComputeServer>
{
    HttpClient Metadata() => TestHttp.Client($"http://{server.Nova.MetadataListen}:{server.Nova.MetadataListenPort}", null);

    static HttpRequestMessage Signed(string path, string instance, string project, string secret)
    {
        var r = new HttpRequestMessage(HttpMethod.Get, path);
        r.Headers.Add("X-Instance-ID", instance);
        r.Headers.Add("X-Tenant-ID", project);
        r.Headers.Add("X-Instance-ID-Signature", Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(instance))));
        return r;
    }

    [Fact]
    public async Task A_signed_request_gets_the_instances_metadata_and_user_data_and_a_wrong_signature_is_refused()
    {
        var (member, image, project) = await server.NewComputeUserAsync("2.37");
        var imageId = await server.NewImageAsync(image);
        var flavor = await server.NewFlavorAsync();
        var script = "#!/bin/sh\necho hello from user data\n";
        var created = await member.PostJsonAsync("servers", new JsonObject
        {
            ["server"] = new JsonObject
            {
                ["name"] = "meta-vm", ["imageRef"] = imageId, ["flavorRef"] = flavor, ["networks"] = "none",
                ["metadata"] = new JsonObject { ["role"] = "web" }, ["user_data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(script)),
            },
        }, 202);
        var id = (string)created["server"]!["id"]!;
        var secret = server.Nova.MetadataProxySharedSecret;
        Assert.True(server.Nova.ServiceMetadataProxy);
        var metadata = Metadata();

        var meta = await metadata.SendAsync(Signed("/openstack/latest/meta_data.json", id, project, secret));
        Assert.Equal(HttpStatusCode.OK, meta.StatusCode);
        var body = (await meta.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(id, (string?)body["uuid"]);
        Assert.Equal("meta-vm", (string?)body["name"]);
        Assert.Equal("meta-vm", (string?)body["hostname"]);
        Assert.Equal("web", (string?)body["meta"]!["role"]);
        Assert.Equal(project, (string?)body["project_id"]);

        var userData = await metadata.SendAsync(Signed("/openstack/latest/user_data", id, project, secret));
        Assert.Equal(script, await userData.Content.ReadAsStringAsync());
        var ec2 = await metadata.SendAsync(Signed("/latest/meta-data/instance-id", id, project, secret));
        Assert.Equal("i-" + id[..8], await ec2.Content.ReadAsStringAsync());
        var listing = await (await metadata.SendAsync(Signed("/latest/meta-data/", id, project, secret))).Content.ReadAsStringAsync();
        Assert.Contains("local-ipv4", listing.Split('\n'));

        Assert.Equal(HttpStatusCode.Forbidden, (await metadata.SendAsync(Signed("/openstack/latest/meta_data.json", id, project, "wrong-secret"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await metadata.SendAsync(Signed("/openstack/latest/meta_data.json", id, "another-project", secret))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await metadata.GetAsync("/openstack/latest/meta_data.json")).StatusCode);
        // The compute API is not on the metadata port.
        Assert.Equal(HttpStatusCode.NotFound, (await metadata.GetAsync("/v2.1/servers")).StatusCode);
    }
}
