using Microsoft.EntityFrameworkCore;
using Stratus.Core.Data;

namespace Stratus.Core.Tests.Data;

/// <summary>db sync on a database an older release made: its history's steps bring it to the model, its rows are kept.</summary>
public class SchemaSyncTests
{
    public sealed class Row
    {
        public int Id { get; set; }
        public string Name { get; set; } = "";
    }

    /// <summary>The old release's model: one table.</summary>
    sealed class OldDb(DbContextOptions<OldDb> options) : DbContext(options)
    {
        public DbSet<Row> Things => Set<Row>();

        protected override void OnModelCreating(ModelBuilder b) => b.Entity<Row>(e =>
        {
            e.ToTable("things");
            e.Property<string>("SecretHash");
        });
    }

    public sealed class Thing
    {
        public int Id { get; set; }
        public string Name { get; set; } = "";
        public string Secret { get; set; } = "";
        public string Kind { get; set; } = "";
        public string? Note { get; set; }
    }

    /// <summary>
    /// The new release's: the same table with a column renamed, two added and its names case-insensitive and unique
    /// (a change SQLite can only make by rebuilding the table); a new table with a unique index.
    /// </summary>
    sealed class NewDb(DbContextOptions<NewDb> options) : DbContext(options)
    {
        public DbSet<Thing> Things => Set<Thing>();
        public DbSet<Mapping> Mappings => Set<Mapping>();

        public static SchemaHistory History { get; } = new("thing-manage db sync",
        [
            new(1, "mappings; things renamed, typed and case-insensitive", async (s, ct) =>
            {
                await s.CreateMissingTablesAsync(ct: ct);
                await s.RenameColumnAsync("things", "SecretHash", "Secret", ct);
                await s.AddColumnAsync("things", "Kind", existingRows: "legacy", ct);
                await s.AddColumnAsync("things", "Note", ct: ct);
                await s.AlterColumnsAsync("things", ["Name"], ct);
            }),
        ]);

        protected override void OnModelCreating(ModelBuilder b)
        {
            b.Entity<Thing>(e =>
            {
                e.ToTable("things");
                e.Property(x => x.Name).UseCollation("NOCASE");
                e.HasIndex(x => x.Name).IsUnique();
            });
            b.Entity<Mapping>(e =>
            {
                e.ToTable("mappings");
                e.HasIndex(x => x.Name).IsUnique();
            });
        }
    }

    public sealed class Mapping
    {
        public int Id { get; set; }
        public string Name { get; set; } = "";
    }

    static readonly SchemaHistory OldHistory = new("thing-manage db sync", []);

    static T Open<T>(string connection, Func<DbContextOptions<T>, T> create) where T : DbContext
    {
        var b = new DbContextOptionsBuilder<T>();
        DatabaseUrl.Parse(connection).Configure(b);
        return create(b.Options);
    }

    [Fact]
    public async Task A_database_an_older_release_made_is_refused_by_a_start_and_upgraded_by_a_sync_with_every_row()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("stratus-schema-").FullName, "db.sqlite");
        var connection = "sqlite:///" + path;
        var url = DatabaseUrl.Parse(connection);
        await DatabaseUrl.SyncAsync<OldDb>(connection, o => new OldDb(o), OldHistory);
        await using (var old = Open<OldDb>(connection, o => new(o)))
        {
            foreach (var name in new[] { "alpha", "Beta" })
            {
                var row = new Row { Name = name };
                old.Things.Add(row);
                old.Entry(row).Property("SecretHash").CurrentValue = "hash-of-" + name;
            }
            await old.SaveChangesAsync();
        }
        await SchemaVersion.StampAsync(url, 0); // what the release before the stamp left

        // A node start may not upgrade: it refuses, names the verb, and the database is as it was.
        var refused = await Assert.ThrowsAsync<SchemaVersionException>(() => DatabaseUrl.SyncAsync<NewDb>(connection, o => new NewDb(o), NewDb.History, upgrade: false));
        Assert.Contains($"{path} has schema version 0, older than this Stratus's ({SchemaVersion.Current})", refused.Message);
        Assert.Contains("./stratus thing-manage db sync", refused.Message);
        Assert.Equal(0, await SchemaVersion.ReadAsync(url));

        await DatabaseUrl.SyncAsync<NewDb>(connection, o => new NewDb(o), NewDb.History);
        Assert.Equal(SchemaVersion.Current, await SchemaVersion.ReadAsync(url));
        await using (var db = Open<NewDb>(connection, o => new(o)))
        {
            var things = await db.Things.OrderBy(t => t.Id).ToListAsync();
            Assert.Equal(["alpha", "Beta"], things.Select(t => t.Name));
            Assert.Equal(["hash-of-alpha", "hash-of-Beta"], things.Select(t => t.Secret));
            Assert.All(things, t => Assert.Equal("legacy", t.Kind));
            Assert.All(things, t => Assert.Null(t.Note));
            // The rebuilt table compares names without case and keeps them unique that way.
            Assert.Equal("Beta", (await db.Things.SingleAsync(t => t.Name == "BETA")).Name);
            db.Things.Add(new Thing { Name = "ALPHA", Kind = "new" });
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
            db.ChangeTracker.Clear();
            // The new table came with its unique index.
            db.Mappings.Add(new Mapping { Name = "a" });
            await db.SaveChangesAsync();
            db.Mappings.Add(new Mapping { Name = "a" });
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }
        // A second sync changes nothing: the same rows.
        await DatabaseUrl.SyncAsync<NewDb>(connection, o => new NewDb(o), NewDb.History, upgrade: false);
        await using (var db = Open<NewDb>(connection, o => new(o)))
            Assert.Equal(2, await db.Things.CountAsync());
    }

    [Fact]
    public async Task A_sync_stamps_the_generation_and_a_database_a_newer_release_synced_is_refused_untouched()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("stratus-schema-").FullName, "db.sqlite");
        var connection = "sqlite:///" + path;
        var url = DatabaseUrl.Parse(connection);
        Assert.Equal(0, await SchemaVersion.ReadAsync(url));
        await DatabaseUrl.SyncAsync<OldDb>(connection, o => new OldDb(o), OldHistory);
        Assert.Equal(SchemaVersion.Current, await SchemaVersion.ReadAsync(url));

        // What a newer release leaves: a higher stamp and a table this release does not know.
        await DatabaseUrl.SyncAsync<NewDb>(connection, o => new NewDb(o), NewDb.History);
        await SchemaVersion.StampAsync(url, SchemaVersion.Current + 1);
        var e = await Assert.ThrowsAsync<SchemaVersionException>(() => DatabaseUrl.SyncAsync<OldDb>(connection, o => new OldDb(o), OldHistory));
        Assert.Contains($"{path} has schema version {SchemaVersion.Current + 1}, newer than this Stratus knows ({SchemaVersion.Current})", e.Message);
        Assert.Equal(SchemaVersion.Current + 1, await SchemaVersion.ReadAsync(url));
    }
}
