using Microsoft.EntityFrameworkCore;
using Stratus.Core.Data;

namespace Stratus.Core.Tests.Data;

/// <summary>db sync on a database an older release made: the tables added since are created, what is there is kept.</summary>
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

        protected override void OnModelCreating(ModelBuilder b) => b.Entity<Row>().ToTable("things");
    }

    /// <summary>The new release's: the same table and a new one with a unique index.</summary>
    sealed class NewDb(DbContextOptions<NewDb> options) : DbContext(options)
    {
        public DbSet<Row> Things => Set<Row>();
        public DbSet<Mapping> Mappings => Set<Mapping>();

        protected override void OnModelCreating(ModelBuilder b)
        {
            b.Entity<Row>().ToTable("things");
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

    [Fact]
    public async Task A_database_an_older_release_made_gets_the_new_tables_and_keeps_its_rows()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("stratus-schema-").FullName, "db.sqlite");
        var connection = "sqlite:///" + path;
        await DatabaseUrl.SyncAsync<OldDb>(connection, o => new OldDb(o));
        var url = DatabaseUrl.Parse(connection);
        var oldOptions = new DbContextOptionsBuilder<OldDb>();
        url.Configure(oldOptions);
        await using (var old = new OldDb(oldOptions.Options))
        {
            old.Things.Add(new Row { Name = "kept" });
            await old.SaveChangesAsync();
        }

        await DatabaseUrl.SyncAsync<NewDb>(connection, o => new NewDb(o));
        var newOptions = new DbContextOptionsBuilder<NewDb>();
        url.Configure(newOptions);
        await using var db = new NewDb(newOptions.Options);
        Assert.Equal("kept", (await db.Things.SingleAsync()).Name);
        db.Mappings.Add(new Mapping { Name = "a" });
        await db.SaveChangesAsync();
        // The new table came with its unique index.
        db.Mappings.Add(new Mapping { Name = "a" });
        await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        // A second sync changes nothing.
        await DatabaseUrl.SyncAsync<NewDb>(connection, o => new NewDb(o));
    }

    [Fact]
    public async Task A_sync_stamps_the_generation_and_a_database_a_newer_release_synced_is_refused_untouched()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("stratus-schema-").FullName, "db.sqlite");
        var connection = "sqlite:///" + path;
        var url = DatabaseUrl.Parse(connection);
        Assert.Equal(0, await SchemaVersion.ReadAsync(url));
        await DatabaseUrl.SyncAsync<OldDb>(connection, o => new OldDb(o));
        Assert.Equal(SchemaVersion.Current, await SchemaVersion.ReadAsync(url));

        // What a newer release leaves: a higher stamp and a table this release does not know.
        await DatabaseUrl.SyncAsync<NewDb>(connection, o => new NewDb(o));
        await SchemaVersion.StampAsync(url, SchemaVersion.Current + 1);
        var e = await Assert.ThrowsAsync<SchemaTooNewException>(() => DatabaseUrl.SyncAsync<OldDb>(connection, o => new OldDb(o)));
        Assert.Contains($"{path} has schema version {SchemaVersion.Current + 1}, newer than this Stratus knows ({SchemaVersion.Current})", e.Message);
        Assert.Equal(SchemaVersion.Current + 1, await SchemaVersion.ReadAsync(url));
    }
}
