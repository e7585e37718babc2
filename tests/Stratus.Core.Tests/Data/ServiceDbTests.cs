using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Stratus.Core.Data;

namespace Stratus.Core.Tests.Data;

/// <summary>SaveChanges on one SQLite file takes turns in the process, and every way a save ends gives its turn up.</summary>
public sealed class ServiceDbTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("stratus-turns-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public sealed class Item
    {
        public int Id { get; set; }
        public string Name { get; set; } = "";
        public int Version { get; set; }
    }

    sealed class ItemDb(DbContextOptions<ItemDb> options) : ServiceDb(options)
    {
        public DbSet<Item> Items => Set<Item>();

        protected override void OnModelCreating(ModelBuilder b) => b.Entity<Item>(e =>
        {
            e.HasIndex(i => i.Name).IsUnique();
            e.Property(i => i.Version).IsConcurrencyToken();
        });
    }

    /// <summary>Keeps a save inside its transaction (holding SQLite's write lock) until released.</summary>
    sealed class Hold(TaskCompletionSource holding, Task release) : DbCommandInterceptor
    {
        public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            holding.TrySetResult();
            await release;
            return result;
        }
    }

    async Task<ItemDb> OpenAsync(params IInterceptor[] interceptors)
    {
        var b = new DbContextOptionsBuilder<ItemDb>().AddInterceptors(interceptors);
        DatabaseUrl.Parse($"sqlite:///{Path.Combine(_dir, "items.db")}").Configure(b);
        var db = new ItemDb(b.Options);
        await db.Database.EnsureCreatedAsync();
        return db;
    }

    async Task AddAsync(string name)
    {
        await using var db = await OpenAsync();
        db.Items.Add(new Item { Name = name });
        await db.SaveChangesAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_save_waits_for_its_turn_without_holding_its_thread()
    {
        var holding = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        await using var first = await OpenAsync(new Hold(holding, release.Task));
        first.Items.Add(new Item { Name = "first" });
        var firstSaved = first.SaveChangesAsync();
        await holding.Task.WaitAsync(TimeSpan.FromSeconds(10));
        try
        {
            await using var second = await OpenAsync();
            second.Items.Add(new Item { Name = "second" });
            // Without the turn, the call itself would sleep and retry on the busy database until the first save ends.
            var call = Task.Factory.StartNew(() => second.SaveChangesAsync(), TaskCreationOptions.LongRunning);
            var secondSaved = await call.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.False(secondSaved.IsCompleted);

            release.SetResult();
            Assert.Equal(1, await firstSaved.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(1, await secondSaved.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            release.TrySetResult();
        }
        await using var check = await OpenAsync();
        Assert.Equal(["first", "second"], await check.Items.Select(i => i.Name).OrderBy(n => n).ToListAsync());
    }

    [Fact]
    public async Task A_failed_cancelled_or_raced_save_gives_up_its_turn()
    {
        await AddAsync("taken");
        await using (var db = await OpenAsync())
        {
            db.Items.Add(new Item { Name = "taken" });
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }
        await using (var db = await OpenAsync())
        {
            db.Items.Add(new Item { Name = "cancelled" });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => db.SaveChangesAsync(new CancellationToken(canceled: true)));
        }
        // A concurrency failure: EF ends it without its SaveChangesFailed interception.
        await using (var one = await OpenAsync())
        await using (var two = await OpenAsync())
        {
            var a = await one.Items.SingleAsync(i => i.Name == "taken");
            var b = await two.Items.SingleAsync(i => i.Name == "taken");
            a.Version = b.Version = 1;
            await one.SaveChangesAsync();
            await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => two.SaveChangesAsync());
        }
        using (var sync = await OpenAsync())
        {
            sync.Items.Add(new Item { Name = "taken" });
            Assert.Throws<DbUpdateException>(() => sync.SaveChanges());
        }

        await AddAsync("next");
        await using var check = await OpenAsync();
        Assert.Equal(["next", "taken"], await check.Items.Select(i => i.Name).OrderBy(n => n).ToListAsync());
    }
}
