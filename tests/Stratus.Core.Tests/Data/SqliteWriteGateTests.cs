using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Stratus.Core.Data;

namespace Stratus.Core.Tests.Data;

/// <summary>SaveChanges on one SQLite file takes turns in the process, and a failed or cancelled save gives its turn up.</summary>
public sealed class SqliteWriteGateTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("stratus-gate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public sealed class Item
    {
        public int Id { get; set; }
        public string Name { get; set; } = "";
    }

    sealed class ItemDb(DbContextOptions<ItemDb> options) : DbContext(options)
    {
        public DbSet<Item> Items => Set<Item>();

        protected override void OnModelCreating(ModelBuilder b) => b.Entity<Item>().HasIndex(i => i.Name).IsUnique();
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

    ItemDb Open(string file, params IInterceptor[] before)
    {
        var b = new DbContextOptionsBuilder<ItemDb>().AddInterceptors(before);
        DatabaseUrl.Parse($"sqlite:///{Path.Combine(_dir, file)}").Configure(b);
        return new ItemDb(b.Options);
    }

    [Fact]
    public async Task A_save_waits_for_its_turn_without_holding_its_thread()
    {
        await using (var db = Open("items.db")) await db.Database.EnsureCreatedAsync();
        var holding = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        await using var first = Open("items.db", new Hold(holding, release.Task));
        first.Items.Add(new Item { Name = "first" });
        var firstSaved = first.SaveChangesAsync();
        await holding.Task.WaitAsync(TimeSpan.FromSeconds(10));
        try
        {
            await using var second = Open("items.db");
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
        await using var check = Open("items.db");
        Assert.Equal(["first", "second"], await check.Items.Select(i => i.Name).OrderBy(n => n).ToListAsync());
    }

    [Fact]
    public async Task A_failed_or_cancelled_save_gives_up_its_turn()
    {
        await using (var db = Open("items.db")) await db.Database.EnsureCreatedAsync();
        await using (var db = Open("items.db"))
        {
            db.Items.Add(new Item { Name = "taken" });
            await db.SaveChangesAsync();
        }
        await using (var db = Open("items.db"))
        {
            db.Items.Add(new Item { Name = "taken" });
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }
        await using (var db = Open("items.db"))
        {
            db.Items.Add(new Item { Name = "cancelled" });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => db.SaveChangesAsync(new CancellationToken(canceled: true)));
        }

        await using var next = Open("items.db");
        next.Items.Add(new Item { Name = "next" });
        await next.SaveChangesAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["next", "taken"], await next.Items.Select(i => i.Name).OrderBy(n => n).ToListAsync());
    }
}
