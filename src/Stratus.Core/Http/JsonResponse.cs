using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Stratus.Core.Http;

/// <summary>
/// A JSON result built from a <see cref="JsonNode"/>, pre-serialized bytes, or a writer callback, with headers.
/// </summary>
public sealed class JsonResponse(JsonNode? body, int status = 200) : IResult
{
    static readonly JsonSerializerOptions Options = new() { WriteIndented = false };
    // As the serializer writes: the tree is valid JSON already, so the writer does not check its nesting again.
    static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };
    readonly List<KeyValuePair<string, string>> _headers = [];
    byte[]? _bytes;
    Action<Utf8JsonWriter>? _write;

    public static JsonResponse FromBytes(byte[] bytes, int status = 200) => new(null, status) { _bytes = bytes };

    /// <summary>
    /// A body written when the response is sent: a long list can make each item, write it and let it go,
    /// rather than hold a tree of all of them (a 1,000-port list's views are megabytes).
    /// </summary>
    public static JsonResponse Writing(Action<Utf8JsonWriter> write, int status = 200) => new(null, status) { _write = write };

    public JsonResponse WithHeader(string name, string value)
    {
        _headers.Add(new(name, value));
        return this;
    }

    public async Task ExecuteAsync(HttpContext ctx)
    {
        ctx.Response.StatusCode = status;
        foreach (var (k, v) in _headers) ctx.Response.Headers.Append(k, v);
        if (_bytes is null && body is null && _write is null)
        {
            ctx.Response.ContentLength = 0;
            return;
        }
        ctx.Response.ContentType = "application/json";
        using var buffer = _bytes is null ? new PooledBufferWriter() : null;
        if (buffer is not null)
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
                if (_write is not null) _write(writer);
                else body!.WriteTo(writer, Options);
        ctx.Response.ContentLength = buffer?.Length ?? _bytes!.Length;
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        foreach (var segment in buffer?.Segments ?? [_bytes]) await ctx.Response.Body.WriteAsync(segment);
    }
}
