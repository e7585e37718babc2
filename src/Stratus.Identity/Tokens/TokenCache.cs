using System.Collections.Concurrent;

namespace Stratus.Identity.Tokens;

/// <summary>
/// Validated tokens, kept briefly so that validation (the hottest call every service makes) is a
/// dictionary lookup. An entry dies when this node writes anything (the generation moves) and after
/// a couple of seconds in any case, so revocations recorded by another identity node sharing the
/// database take effect quickly too.
/// </summary>
public sealed class TokenCache(IdentityGeneration generation)
{
    const long MaxAgeMs = 2000;
    const int MaxEntries = 100_000;

    sealed record Entry(TokenInfo Info, long Generation, long CachedAt)
    {
        public byte[]? BodyWithCatalog;
        public byte[]? BodyWithoutCatalog;
    }

    readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public TokenInfo? Get(string token) => Fresh(token)?.Info;

    public void Put(TokenInfo info)
    {
        if (_entries.Count >= MaxEntries) _entries.Clear();
        _entries[info.Token] = new Entry(info, generation.Value, Environment.TickCount64);
    }

    /// <summary>The serialized validation body, cached beside the token.</summary>
    public byte[]? GetBody(string token, bool catalog) =>
        Fresh(token) is { } e ? catalog ? e.BodyWithCatalog : e.BodyWithoutCatalog : null;

    public void PutBody(string token, bool catalog, byte[] body)
    {
        if (Fresh(token) is not { } e) return;
        if (catalog) e.BodyWithCatalog = body;
        else e.BodyWithoutCatalog = body;
    }

    Entry? Fresh(string token)
    {
        if (!_entries.TryGetValue(token, out var e)) return null;
        if (e.Generation == generation.Value && Environment.TickCount64 - e.CachedAt < MaxAgeMs && e.Info.ExpiresAt > DateTime.UtcNow)
            return e;
        _entries.TryRemove(token, out _);
        return null;
    }
}
