using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Stratus.Core.Http;

namespace Stratus.Core.Tests.Http;

/// <summary>
/// A JSON body written with its length, whatever its size (a list of 1,000 ports is 830 KB, written in segments of
/// 32 KiB), and whatever the size of one value (a description longer than a segment).
/// </summary>
public sealed class JsonResponseTests
{
    static async Task<(HttpResponse Response, byte[] Body)> ExecuteAsync(JsonResponse result, string method = "GET")
    {
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        var body = new MemoryStream();
        http.Response.Body = body;
        await result.ExecuteAsync(http);
        return (http.Response, body.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(3_000)]
    [InlineData(2, 100_000)]
    public async Task The_body_is_the_nodes_json_with_its_length_and_a_head_gets_the_length_alone(int ports, int description = 0)
    {
        var list = new JsonObject
        {
            ["ports"] = new JsonArray([.. Enumerable.Range(0, ports).Select(i => (JsonNode)new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(), ["name"] = $"port-{i} é \"quoted\" <b>", ["admin_state_up"] = i % 2 == 0, ["mtu"] = 1450, ["description"] = new string('d', description),
                ["fixed_ips"] = new JsonArray(new JsonObject { ["ip_address"] = $"10.0.{i / 256}.{i % 256}" }),
            })]),
        };
        var expected = JsonSerializer.SerializeToUtf8Bytes<JsonNode>(list);

        var (response, body) = await ExecuteAsync(new JsonResponse(list, 201).WithHeader("X-Openstack-Request-Id", "req-1"));
        var (head, headBody) = await ExecuteAsync(new JsonResponse(list), "HEAD");

        Assert.Equal(201, response.StatusCode);
        Assert.Equal("application/json", response.ContentType);
        Assert.Equal("req-1", response.Headers["X-Openstack-Request-Id"].ToString());
        Assert.Equal(expected.Length, response.ContentLength);
        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(body));
        Assert.Equal(expected.Length, head.ContentLength);
        Assert.Empty(headBody);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3_000)]
    public async Task A_body_written_by_a_callback_is_made_as_it_is_sent_with_its_length(int ports)
    {
        var made = 0;
        IEnumerable<JsonObject> Ports() // lazily, as a list makes each view when it writes it
        {
            for (var i = 0; i < ports; i++, made++) yield return new JsonObject { ["id"] = $"port-{i}", ["mtu"] = 1450 };
        }
        var expected = JsonSerializer.SerializeToUtf8Bytes<JsonNode>(new JsonObject { ["ports"] = new JsonArray([.. Ports()]) });
        made = 0;
        var result = JsonResponse.Writing(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("ports");
            foreach (var p in Ports()) p.WriteTo(w);
            w.WriteEndArray();
            w.WriteEndObject();
        }, 200);
        Assert.Equal(0, made);

        var (response, body) = await ExecuteAsync(result);

        Assert.Equal(ports, made);
        Assert.Equal("application/json", response.ContentType);
        Assert.Equal(expected.Length, response.ContentLength);
        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(body));
    }

    [Theory]
    [InlineData(10, "GET")]
    [InlineData(3_000, "GET")]
    [InlineData(3_000, "HEAD")]
    public async Task A_streamed_body_goes_out_as_written_once_past_64_KiB_and_with_its_length_below(int ports, string method)
    {
        var items = Enumerable.Range(0, ports).Select(i => new JsonObject { ["id"] = $"port-{i}", ["name"] = new string('n', 40) }).ToList();
        var expected = JsonSerializer.SerializeToUtf8Bytes<JsonNode>(new JsonObject { ["ports"] = new JsonArray([.. items.Select(i => i.DeepClone())]) });
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        var body = new MemoryStream();
        http.Response.Body = body;
        var sentWhileWriting = 0L;
        var result = JsonResponse.Streaming(async (w, flush) =>
        {
            w.WriteStartObject();
            w.WriteStartArray("ports");
            foreach (var item in items)
            {
                item.WriteTo(w);
                await flush();
            }
            sentWhileWriting = body.Length;
            w.WriteEndArray();
            w.WriteEndObject();
        });

        await result.ExecuteAsync(http);

        var big = expected.Length > 64 * 1024;
        Assert.Equal(big && method == "GET", sentWhileWriting > 0);
        Assert.Equal(big && method == "GET" ? null : expected.Length, http.Response.ContentLength);
        Assert.Equal(method == "GET" ? Encoding.UTF8.GetString(expected) : "", Encoding.UTF8.GetString(body.ToArray()));
    }
}
