using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Stratus.Core.Data;

/// <summary>
/// What every service's database context shares: on SQLite, <c>SaveChanges</c> takes its turn among the process's
/// saves to the same file. SQLite has one writer at a time, and Microsoft.Data.Sqlite meets a busy database by sleeping
/// its thread and retrying, in no order: under concurrent writes (8 clients creating ports) some requests waited for
/// hundreds of milliseconds while they held pool threads. Here they wait without a thread, first come first served.
/// A save inside an explicit transaction (which may hold SQLite's lock already) and other processes still meet SQLite's own lock.
/// </summary>
public abstract class ServiceDb(DbContextOptions options) : DbContext(options)
{
    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        if (Turn() is not { } turn) return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        await turn.WaitAsync(cancellationToken);
        try
        {
            return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        }
        finally
        {
            turn.Release();
        }
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        if (Turn() is not { } turn) return base.SaveChanges(acceptAllChangesOnSuccess);
        turn.Wait();
        try
        {
            return base.SaveChanges(acceptAllChangesOnSuccess);
        }
        finally
        {
            turn.Release();
        }
    }

    /// <summary>The turns of this context's SQLite file, unless it is another database or the save is in a transaction.</summary>
    SemaphoreSlim? Turn() =>
        Database.CurrentTransaction is null && Database.GetDbConnection() is SqliteConnection { DataSource: { Length: > 0 } file }
            ? SqliteTurns.Of(file)
            : null;
}

/// <summary>The writers of one SQLite file in this process, one at a time (see <see cref="ServiceDb"/>); EF Core's saves and <see cref="SqlDatabase"/>'s writes share them.</summary>
public static class SqliteTurns
{
    static readonly ConcurrentDictionary<string, SemaphoreSlim> Turns = new(StringComparer.Ordinal);

    public static SemaphoreSlim Of(string file) => Turns.GetOrAdd(Path.GetFullPath(file), _ => new SemaphoreSlim(1, 1));
}
