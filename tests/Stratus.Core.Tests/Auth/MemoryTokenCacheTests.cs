using Microsoft.Extensions.Time.Testing;
using Stratus.Core.Auth;

namespace Stratus.Core.Tests.Auth;

public class MemoryTokenCacheTests
{
    [Fact]
    public async Task A_validation_is_kept_until_its_token_expires_even_when_stale()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cache = new MemoryTokenCache(clock);
        var now = clock.GetUtcNow();
        var entry = new CachedValidation("{}", now.AddMinutes(5), now.AddHours(1));
        await cache.SetAsync("k", entry, default);

        clock.Advance(TimeSpan.FromMinutes(10)); // stale, kept for when the identity cannot be asked
        Assert.Same(entry, await cache.GetAsync("k", default));
        clock.Advance(TimeSpan.FromMinutes(50)); // the token's own expiry
        Assert.Null(await cache.GetAsync("k", default));
        Assert.Null(await cache.GetAsync("never-set", default));
    }
}
