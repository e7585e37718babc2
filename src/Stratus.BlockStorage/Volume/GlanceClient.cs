using System.Net;
using System.Net.Http.Json;
using Microsoft.Win32.SafeHandles;
using Stratus.Core.IO;

namespace Stratus.BlockStorage.Volume;

/// <summary>
/// Cinder's glance client as cinder-volume uses it: an image's record and bytes read from, or a volume's bytes
/// written to, the image service the API found (<c>glance_api_servers</c>, else the catalog), with the token of
/// the user who asked.
/// </summary>
public sealed class GlanceClient(HttpClient http)
{
    /// <summary>The image's record; throws <see cref="ImageUnavailableException"/> with the reason when it cannot be read.</summary>
    public async Task<JsonObject> ShowAsync(string endpoint, string imageId, string? token, CancellationToken ct)
    {
        using var response = await SendAsync(endpoint, $"v2/images/{Uri.EscapeDataString(imageId)}", token, HttpCompletionOption.ResponseContentRead, ct);
        return await response.Content.ReadFromJsonAsync<JsonObject>(ct) ?? throw new ImageUnavailableException($"{endpoint} answered without an image");
    }

    public async Task DownloadAsync(string endpoint, string imageId, string? token, string target, CancellationToken ct)
    {
        using var response = await SendAsync(endpoint, $"v2/images/{Uri.EscapeDataString(imageId)}/file", token, HttpCompletionOption.ResponseHeadersRead, ct);
        await using var source = await response.Content.ReadAsStreamAsync(ct);
        File.Delete(target); // what a create stopped half-way left
        var (file, direct) = DirectIo.Create(target, tryDirect: true);
        using (file) await CopyAsync(source, file, direct, ct);
    }

    /// <summary>
    /// The bytes of <paramref name="source"/> into <paramref name="file"/> a MiB at a time, the next MiB read from the
    /// socket while the last is written, with O_DIRECT where the file system takes it (as Cinder converts images with
    /// <c>qemu-img -t none</c>): through the page cache a GiB cost 0.6-2.6 s of system CPU here and a create from a
    /// 1 GiB image 1.7-3.9 s. O_DIRECT writes whole blocks: the last one is padded and the file then cut to its length.
    /// </summary>
    static async Task CopyAsync(Stream source, SafeFileHandle file, bool direct, CancellationToken ct)
    {
        const int Chunk = 1 << 20;
        Memory<byte> reading = DirectIo.AlignedBuffer(Chunk), writing = DirectIo.AlignedBuffer(Chunk);
        long length = 0;
        var written = Task.CompletedTask;
        try
        {
            while (true)
            {
                var n = await source.ReadAtLeastAsync(reading, Chunk, throwOnEndOfStream: false, ct);
                await written;
                if (n == 0) break;
                (reading, writing) = (writing, reading);
                var block = direct ? DirectIo.AlignUp(n) : n;
                written = RandomAccess.WriteAsync(file, writing[..block], length, ct).AsTask();
                length += n;
            }
        }
        finally
        {
            // A read that failed leaves no write going on in the file its caller closes.
            await written.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (direct) RandomAccess.SetLength(file, length);
    }

    /// <summary>The bytes of <paramref name="source"/> as the data of a queued image (Glance's <c>PUT /v2/images/{id}/file</c>).</summary>
    public async Task UploadAsync(string endpoint, string imageId, string? token, string source, CancellationToken ct)
    {
        await using var file = File.OpenRead(source);
        using var content = new StreamContent(file, 1 << 20);
        content.Headers.ContentType = new("application/octet-stream");
        content.Headers.ContentLength = file.Length;
        using var response = await SendAsync(endpoint, $"v2/images/{Uri.EscapeDataString(imageId)}/file", token, HttpCompletionOption.ResponseContentRead, ct,
            HttpMethod.Put, content, HttpStatusCode.NoContent);
    }

    /// <summary>Deletes an image an upload left queued or saving (Cinder's <c>_delete_image</c>); an image that became active stays.</summary>
    public async Task DeleteUnfinishedAsync(string endpoint, string imageId, string? token, CancellationToken ct)
    {
        var image = await ShowAsync(endpoint, imageId, token, ct);
        if ((string?)image["status"] is "queued" or "saving")
            using (await SendAsync(endpoint, $"v2/images/{Uri.EscapeDataString(imageId)}", token, HttpCompletionOption.ResponseContentRead, ct,
                HttpMethod.Delete, expected: HttpStatusCode.NoContent)) { }
    }

    async Task<HttpResponseMessage> SendAsync(string endpoint, string path, string? token, HttpCompletionOption completion, CancellationToken ct,
        HttpMethod? method = null, HttpContent? content = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, endpoint.TrimEnd('/') + "/" + path) { Content = content };
        if (token is not null) request.Headers.Add("X-Auth-Token", token);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, completion, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new ImageUnavailableException($"the image service at {endpoint} did not answer: {e.Message}");
        }
        if (response.StatusCode == expected) return response;
        var status = (int)response.StatusCode;
        response.Dispose();
        throw new ImageUnavailableException($"the image service at {endpoint} answered {status} to {request.Method} /{path}");
    }
}

public sealed class ImageUnavailableException(string message) : Exception(message);
