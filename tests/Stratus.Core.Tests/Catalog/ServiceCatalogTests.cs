using System.Text.Json.Nodes;
using Stratus.Core.Catalog;

namespace Stratus.Core.Tests.Catalog;

public class ServiceCatalogTests
{
    // The seed's catalog after section 4.1: identity in both regions, image only in RegionTwo.
    static readonly ServiceCatalog Seed = new(JsonNode.Parse("""
        [
          {"type": "identity", "name": "keystone", "endpoints": [
            {"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": "http://172.16.2.72:5000/v3/"},
            {"interface": "public", "region_id": "RegionTwo", "region": "RegionTwo", "url": "http://172.16.2.72:5000/v3/"}]},
          {"type": "image", "name": "glance", "endpoints": [
            {"interface": "public", "region_id": "RegionTwo", "url": "http://172.16.3.72:9292"},
            {"interface": "internal", "region_id": "RegionTwo", "url": "http://10.0.3.72:9292"}]},
          {"type": "volumev3", "name": "cinderv3", "endpoints": [
            {"interface": "public", "region": "RegionTwo", "url": "http://172.16.3.72:8776/v3/%(project_id)s"}]}
        ]
        """)!.AsArray());

    [Fact]
    public void Picks_the_endpoint_of_the_region_and_interface()
    {
        Assert.Equal("http://172.16.3.72:9292", Seed.EndpointFor("image", "public", "RegionTwo"));
        Assert.Equal("http://10.0.3.72:9292", Seed.EndpointFor("image", "internalURL", "RegionTwo"));
        Assert.Equal("http://172.16.2.72:5000/v3/", Seed.EndpointFor("identity", region: "RegionOne"));
    }

    [Fact]
    public void Fills_in_the_project_and_reads_the_legacy_region_field()
    {
        Assert.Equal("http://172.16.3.72:8776/v3/p1", Seed.EndpointFor("volumev3", region: "RegionTwo", projectId: "p1"));
        var e = Assert.Throws<EndpointNotFoundException>(() => Seed.EndpointFor("volumev3", region: "RegionTwo"));
        Assert.Contains("needs a project", e.Message);
    }

    [Fact]
    public void A_wrong_region_names_what_was_asked_and_what_exists()
    {
        var e = Assert.Throws<EndpointNotFoundException>(() => Seed.EndpointFor("image", "public", "RegionOne"));
        Assert.Contains("'image'", e.Message);
        Assert.Contains("region 'RegionOne'", e.Message);
        Assert.Contains("public in RegionTwo", e.Message);
        var missing = Assert.Throws<EndpointNotFoundException>(() => Seed.EndpointFor("placement", region: "RegionTwo"));
        Assert.Contains("no such service", missing.Message);
    }
}
