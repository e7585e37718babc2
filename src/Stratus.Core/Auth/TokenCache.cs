using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Stratus.Core.Auth;

/// <summary>
/// A validation result kept by the token cache: the identity's answer (or "invalid"), fresh until
/// <see cref="FreshUntil"/> (token_cache_time); a stale valid entry is still served while the identity
/// is unreachable, until the token itself expires.
/// </summary>
public sealed record CachedValidation(string? Body, DateTimeOffset FreshUntil, DateTimeOffset ExpiresAt)
{
    public bool IsValid => Body is not null;

    public string Serialize() =>
        string.Create(CultureInfo.InvariantCulture, $"{FreshUntil.ToUnixTimeMilliseconds()} {ExpiresAt.ToUnixTimeMilliseconds()}\n{Body ?? ""}");

    public static CachedValidation? Deserialize(string text)
    {
        var nl = text.IndexOf('\n', StringComparison.Ordinal);
        var head = nl < 0 ? [] : text[..nl].Split(' ');
        if (head.Length != 2 || !long.TryParse(head[0], CultureInfo.InvariantCulture, out var fresh)
            || !long.TryParse(head[1], CultureInfo.InvariantCulture, out var expires)) return null;
        var body = text[(nl + 1)..];
        return new CachedValidation(body.Length == 0 ? null : body,
            DateTimeOffset.FromUnixTimeMilliseconds(fresh), DateTimeOffset.FromUnixTimeMilliseconds(expires));
    }
}

/// <summary>Where validations are cached: in the process, or in memcached (<c>memcached_servers</c>).</summary>
public interface ITokenCache
{
    /// <summary>The entry's key for a token.</summary>
    string KeyOf(string token);

    ValueTask<CachedValidation?> GetAsync(string key, CancellationToken ct);
    ValueTask SetAsync(string key, CachedValidation entry, CancellationToken ct);
}

public sealed class MemoryTokenCache(TimeProvider time) : ITokenCache
{
    /// <summary>
    /// The token itself: the cached caller holds it anyway, and hashing it would load OpenSSL (4-5 MiB resident)
    /// into a service that has no other use for it.
    /// </summary>
    public string KeyOf(string token) => token;

    const int MaxEntries = 100_000;
    readonly ConcurrentDictionary<string, CachedValidation> _entries = new(StringComparer.Ordinal);

    public ValueTask<CachedValidation?> GetAsync(string key, CancellationToken ct)
    {
        if (!_entries.TryGetValue(key, out var e)) return ValueTask.FromResult<CachedValidation?>(null);
        if (e.ExpiresAt > time.GetUtcNow()) return ValueTask.FromResult<CachedValidation?>(e);
        _entries.TryRemove(key, out _);
        return ValueTask.FromResult<CachedValidation?>(null);
    }

    public ValueTask SetAsync(string key, CachedValidation entry, CancellationToken ct)
    {
        // A flood of distinct bad tokens must not grow the cache without bound.
        if (_entries.Count >= MaxEntries) Prune();
        _entries[key] = entry;
        return ValueTask.CompletedTask;
    }

    void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var (k, v) in _entries)
            if (v.ExpiresAt <= now || v.FreshUntil <= now) _entries.TryRemove(k, out _);
        if (_entries.Count >= MaxEntries) _entries.Clear();
    }
}

/// <summary>
/// The token cache in memcached, over its text protocol (get/set), keys spread over the servers by
/// hash as python-memcached does. When memcached fails the validation is simply not cached there:
/// the in-process cache keeps the service going, and the failure is logged once a minute.
/// </summary>
public sealed class MemcachedTokenCache(IReadOnlyList<string> servers, TimeProvider time, ILogger log) : ITokenCache
{
    /// <summary>Tokens are secrets: memcached knows them only by their hash.</summary>
    public string KeyOf(string token) => "stratus/tokens/" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    readonly MemcachedServer[] _servers = servers.Select(s => new MemcachedServer(s)).ToArray();
    readonly MemoryTokenCache _fallback = new(time);
    long _lastWarning;

    public async ValueTask<CachedValidation?> GetAsync(string key, CancellationToken ct)
    {
        try
        {
            var text = await Pick(key).GetAsync(key, ct);
            return text is null ? null : CachedValidation.Deserialize(text);
        }
        catch (Exception e) when (e is IOException or SocketException or TimeoutException or FormatException)
        {
            Warn(e);
            return await _fallback.GetAsync(key, ct);
        }
    }

    public async ValueTask SetAsync(string key, CachedValidation entry, CancellationToken ct)
    {
        var ttl = (int)Math.Clamp((entry.ExpiresAt - time.GetUtcNow()).TotalSeconds, 1, 30 * 24 * 3600 - 1);
        try
        {
            await Pick(key).SetAsync(key, entry.Serialize(), ttl, ct);
        }
        catch (Exception e) when (e is IOException or SocketException or TimeoutException or FormatException)
        {
            Warn(e);
            await _fallback.SetAsync(key, entry, ct);
        }
    }

    MemcachedServer Pick(string key) => _servers[(int)((uint)StringComparer.Ordinal.GetHashCode(key) % (uint)_servers.Length)];

    void Warn(Exception e)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastWarning);
        if (now - last < 60_000 && last != 0) return;
        Interlocked.Exchange(ref _lastWarning, now);
        log.LogWarning("memcached ({Servers}) failed, caching tokens in memory: {Error}", string.Join(",", servers), e.Message);
    }
}

/// <summary>One memcached server, with a small pool of connections.</summary>
sealed class MemcachedServer(string address)
{
    readonly ConcurrentBag<Connection> _idle = [];

    public async Task<string?> GetAsync(string key, CancellationToken ct)
    {
        var c = await RentAsync(ct);
        try
        {
            await c.WriteLineAsync($"get {key}", ct);
            var line = await c.ReadLineAsync(ct);
            if (line == "END") { Return(c); return null; }
            var parts = line.Split(' ');
            if (parts.Length < 4 || parts[0] != "VALUE") throw new FormatException($"memcached answered '{line}' to get");
            var data = await c.ReadBytesAsync(int.Parse(parts[3], CultureInfo.InvariantCulture) + 2, ct);
            if (await c.ReadLineAsync(ct) != "END") throw new FormatException("memcached's get answer does not end with END");
            Return(c);
            return Encoding.UTF8.GetString(data, 0, data.Length - 2);
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    public async Task SetAsync(string key, string value, int ttlSeconds, CancellationToken ct)
    {
        var c = await RentAsync(ct);
        try
        {
            var data = Encoding.UTF8.GetBytes(value);
            await c.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"set {key} 0 {ttlSeconds} {data.Length}"), ct);
            await c.WriteAsync(data, ct);
            await c.WriteLineAsync("", ct);
            var line = await c.ReadLineAsync(ct);
            if (line != "STORED") throw new FormatException($"memcached answered '{line}' to set");
            Return(c);
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    async Task<Connection> RentAsync(CancellationToken ct)
    {
        if (_idle.TryTake(out var c)) return c;
        var (host, port) = Split(address);
        var client = new TcpClient { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            await client.ConnectAsync(host, port, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            client.Dispose();
            throw new TimeoutException($"connecting to memcached at {address} timed out");
        }
        catch
        {
            client.Dispose();
            throw;
        }
        return new Connection(client);
    }

    void Return(Connection c)
    {
        if (_idle.Count < 16) _idle.Add(c);
        else c.Dispose();
    }

    static (string Host, int Port) Split(string address)
    {
        var a = address.StartsWith("inet:", StringComparison.Ordinal) ? address[5..] : address;
        var colon = a.LastIndexOf(':');
        return colon < 0 ? (a, 11211) : (a[..colon].Trim('[', ']'), int.Parse(a[(colon + 1)..], CultureInfo.InvariantCulture));
    }

    sealed class Connection(TcpClient client) : IDisposable
    {
        readonly NetworkStream _stream = client.GetStream();
        readonly byte[] _buffer = new byte[64 * 1024];
        int _start, _end;

        public async Task WriteLineAsync(string line, CancellationToken ct) => await WriteAsync(Encoding.UTF8.GetBytes(line + "\r\n"), ct);

        public async Task WriteAsync(byte[] data, CancellationToken ct) => await _stream.WriteAsync(data, ct);

        public async Task<string> ReadLineAsync(CancellationToken ct)
        {
            var sb = new StringBuilder();
            while (true)
            {
                for (var i = _start; i < _end; i++)
                {
                    if (_buffer[i] != '\n') continue;
                    sb.Append(Encoding.UTF8.GetString(_buffer, _start, i - _start));
                    _start = i + 1;
                    return sb.ToString().TrimEnd('\r');
                }
                sb.Append(Encoding.UTF8.GetString(_buffer, _start, _end - _start));
                await FillAsync(ct);
            }
        }

        public async Task<byte[]> ReadBytesAsync(int count, CancellationToken ct)
        {
            var result = new byte[count];
            var got = 0;
            while (got < count)
            {
                if (_start == _end) await FillAsync(ct);
                var n = Math.Min(count - got, _end - _start);
                Buffer.BlockCopy(_buffer, _start, result, got, n);
                _start += n;
                got += n;
            }
            return result;
        }

        async Task FillAsync(CancellationToken ct)
        {
            _start = 0;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            try
            {
                _end = await _stream.ReadAsync(_buffer, timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException("memcached did not answer within 3 s");
            }
            if (_end == 0) throw new IOException("memcached closed the connection");
        }

        public void Dispose() => client.Dispose();
    }
}
