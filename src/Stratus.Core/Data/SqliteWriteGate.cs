using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Stratus.Core.Data;

/// <summary>
/// SQLite has one writer at a time, and Microsoft.Data.Sqlite meets a busy database by sleeping its thread and
/// retrying, in no order: under concurrent writes (8 clients creating ports) some requests waited for hundreds of
/// milliseconds while they held pool threads. Within a process, <c>SaveChanges</c> on one database file takes its turn
/// here instead, first come first served, without blocking a thread. A context inside an explicit transaction (which
/// may hold SQLite's lock already) and other processes still meet SQLite's own lock.
/// </summary>
public sealed class SqliteWriteGate : SaveChangesInterceptor
{
    static readonly ConcurrentDictionary<string, SqliteWriteGate> Gates = new();

    readonly SemaphoreSlim _turn = new(1, 1);
    readonly ConcurrentDictionary<DbContext, byte> _holders = new();

    /// <summary>The gate of a database file, shared by every context of the process on it.</summary>
    public static SqliteWriteGate For(string path) => Gates.GetOrAdd(Path.GetFullPath(path), _ => new());

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (Takes(eventData) is { } context)
        {
            _turn.Wait();
            _holders[context] = 0;
        }
        return result;
    }

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result,
        CancellationToken cancellationToken = default)
    {
        if (Takes(eventData) is { } context)
        {
            await _turn.WaitAsync(cancellationToken);
            _holders[context] = 0;
        }
        return result;
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Release(eventData);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Release(eventData);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Release(eventData);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Release(eventData);
        return Task.CompletedTask;
    }

    public override void SaveChangesCanceled(DbContextEventData eventData) => Release(eventData);

    public override Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        Release(eventData);
        return Task.CompletedTask;
    }

    static DbContext? Takes(DbContextEventData eventData) =>
        eventData.Context is { } context && context.Database.CurrentTransaction is null ? context : null;

    void Release(DbContextEventData eventData)
    {
        if (eventData.Context is { } context && _holders.TryRemove(context, out _)) _turn.Release();
    }
}
