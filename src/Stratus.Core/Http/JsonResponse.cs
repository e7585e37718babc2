using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Stratus.Core.Http;

/// <summary>A JSON result built from a <see cref="JsonNode"/> or pre-serialized bytes, with headers.</summary>
public sealed class JsonResponse(JsonNode? body, int status = 200) : IResult
{
    static readonly JsonSerializerOptions Options = new() { WriteIndented = false };
    // As the serializer writes: the tree is valid JSON already, so the writer does not check its nesting again.
    static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };
    readonly List<KeyValuePair<string, string>> _headers = [];
    byte[]? _bytes;

    public static JsonResponse FromBytes(byte[] bytes, int status = 200) => new(null, status) { _bytes = bytes };

    public JsonResponse WithHeader(string name, string value)
    {
        _headers.Add(new(name, value));
        return this;
    }

    public async Task ExecuteAsync(HttpContext ctx)
    {
        ctx.Response.StatusCode = status;
        foreach (var (k, v) in _headers) ctx.Response.Headers.Append(k, v);
        if (_bytes is null && body is null)
        {
            ctx.Response.ContentLength = 0;
            return;
        }
        ctx.Response.ContentType = "application/json";
        using var buffer = _bytes is null ? new PooledBufferWriter() : null;
        if (buffer is not null)
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions)) body!.WriteTo(writer, Options);
        ctx.Response.ContentLength = buffer?.Length ?? _bytes!.Length;
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        foreach (var segment in buffer?.Segments ?? [_bytes]) await ctx.Response.Body.WriteAsync(segment);
    }
}
