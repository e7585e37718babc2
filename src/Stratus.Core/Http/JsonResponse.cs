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
    /// <summary>How much of a streamed body is held before it starts to go out without its length.</summary>
    const int StreamAfter = 64 * 1024;
    readonly List<KeyValuePair<string, string>> _headers = [];
    byte[]? _bytes;
    Func<Utf8JsonWriter, Func<ValueTask>, Task>? _write;

    public static JsonResponse FromBytes(byte[] bytes, int status = 200) => new(null, status) { _bytes = bytes };

    /// <summary>
    /// A body written when the response is sent: a long list can make each item, write it and let it go,
    /// rather than hold a tree of all of them (a 1,000-port list's views are megabytes).
    /// </summary>
    public static JsonResponse Writing(Action<Utf8JsonWriter> write, int status = 200) => new(null, status)
    {
        _write = (w, _) =>
        {
            write(w);
            return Task.CompletedTask;
        },
    };

    /// <summary>
    /// A body written as it is made, with a function <paramref name="write"/> calls between items: past 64 KiB, what
    /// is written goes out there (chunked, without a length), so a list of thousands is never held whole; a smaller
    /// body goes with its length.
    /// </summary>
    public static JsonResponse Streaming(Func<Utf8JsonWriter, Func<ValueTask>, Task> write, int status = 200) => new(null, status) { _write = write };

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
        var head = HttpMethods.IsHead(ctx.Request.Method);
        if (_bytes is not null)
        {
            ctx.Response.ContentLength = _bytes.Length;
            if (!head) await ctx.Response.Body.WriteAsync(_bytes);
            return;
        }
        using var buffer = new PooledBufferWriter();
        var streaming = false;
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            if (_write is not null)
                await _write(writer, async () =>
                {
                    if (head || buffer.Length + writer.BytesPending < StreamAfter) return;
                    writer.Flush();
                    streaming = true;
                    await SendAsync(ctx, buffer);
                });
            else body!.WriteTo(writer, Options);
        if (!streaming) ctx.Response.ContentLength = buffer.Length;
        if (!head) await SendAsync(ctx, buffer);
    }

    static async Task SendAsync(HttpContext ctx, PooledBufferWriter buffer)
    {
        foreach (var segment in buffer.Segments) await ctx.Response.Body.WriteAsync(segment);
        buffer.Clear();
    }
}
