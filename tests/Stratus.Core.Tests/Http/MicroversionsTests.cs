using Microsoft.AspNetCore.Http;
using Stratus.Core.Http;

namespace Stratus.Core.Tests.Http;

/// <summary>A service's declared microversions, here Cinder's volume 3.0-3.70 (no legacy header).</summary>
public sealed class MicroversionsTests
{
    static readonly Microversions Volume = new("volume", new ApiVersionRequest(3, 0), new ApiVersionRequest(3, 70))
    {
        InvalidFormat = text => $"Invalid API version request: {text}",
        NotAcceptable = text => $"Version {text} is not supported",
    };

    static HttpRequest Request(params (string Name, string Value)[] headers)
    {
        var http = new DefaultHttpContext();
        foreach (var (name, value) in headers) http.Request.Headers.Append(name, value);
        return http.Request;
    }

    [Fact]
    public void The_service_s_own_header_names_the_version_and_absent_or_latest_give_the_ends_of_the_range()
    {
        Assert.Equal(new ApiVersionRequest(3, 27), Volume.Parse(Request(("OpenStack-API-Version", "compute 2.5"), ("OpenStack-API-Version", "volume 3.27"))));
        Assert.Equal(new ApiVersionRequest(3, 0), Volume.Parse(Request(("OpenStack-API-Version", "compute 2.5"))));
        Assert.Equal(new ApiVersionRequest(3, 70), Volume.Parse(Request(("OpenStack-API-Version", "Volume latest"))));
        Assert.Equal("3.70", Volume.Max.ToString());
    }

    [Fact]
    public void Malformed_and_unserved_versions_fail_with_the_service_s_texts()
    {
        var malformed = Assert.Throws<OpenStackError>(() => Volume.Parse(Request(("OpenStack-API-Version", "volume 2.1"))));
        Assert.Equal((400, "Invalid API version request: 2.1"), (malformed.Code, malformed.Message));
        var unserved = Assert.Throws<OpenStackError>(() => Volume.Parse(Request(("OpenStack-API-Version", "volume 3.71"))));
        Assert.Equal((406, "Version 3.71 is not supported"), (unserved.Code, unserved.Message));
    }

    [Fact]
    public void The_answer_says_which_version_answered_and_remembers_it()
    {
        var http = new DefaultHttpContext();
        Volume.Apply(http, new ApiVersionRequest(3, 27));
        Assert.Equal("volume 3.27", http.Response.Headers["OpenStack-API-Version"].ToString());
        Assert.Equal("OpenStack-API-Version", http.Response.Headers.Vary.ToString());
        Assert.True(Volume.Of(http).AtLeast(27));
        Assert.False(Volume.Of(http).AtLeast(28));
        Assert.Equal(Volume.Min, Volume.Of(new DefaultHttpContext()));
    }
}
