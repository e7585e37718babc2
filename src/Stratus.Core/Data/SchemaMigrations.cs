using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using Microsoft.EntityFrameworkCore.Storage;

namespace Stratus.Core.Data;

/// <summary>
/// A service's schema history, checked into the repository next to its model: the verb that applies it and each step
/// from one generation (<see cref="SchemaVersion"/>) to the next. A new database gets the current model at once; one of
/// an older generation gets the steps after its stamp, in order, each stamped when done.
/// </summary>
public sealed record SchemaHistory(string SyncVerb, IReadOnlyList<SchemaMigration> Migrations)
{
    /// <summary>Rows a new or upgraded database must hold (as a service's own migrations insert them), written before the stamp.</summary>
    public Func<DbContext, CancellationToken, Task>? Seed { get; init; }
}

/// <summary>
/// One step, from generation <c>Version - 1</c> to <c>Version</c>. Steps say what changed as "if missing" operations on
/// the model's tables (a database made between two releases may hold part of a step already), so that a step
/// interrupted half-way is finished by running the sync again.
/// </summary>
public sealed record SchemaMigration(int Version, string Description, Func<SchemaChange, CancellationToken, Task> UpAsync);

/// <summary>
/// The operations a step uses on one database of any provider: each column and table is defined by the service's
/// current model, and EF Core's SQL generator of the provider writes the statements.
/// </summary>
public sealed class SchemaChange(DbContext db, DatabaseUrl url)
{
    readonly IModel _model = db.GetService<IDesignTimeModel>().Model;
    readonly ISqlGenerationHelper _sql = db.GetService<ISqlGenerationHelper>();

    /// <summary>Creates each table of <paramref name="tables"/> (every table of the model when none) that is missing, with its indexes.</summary>
    public async Task CreateMissingTablesAsync(IEnumerable<string>? tables = null, CancellationToken ct = default)
    {
        var statements = CreateScript();
        foreach (var table in tables ?? _model.GetEntityTypes().Select(e => e.GetTableName()).OfType<string>().Distinct())
        {
            if (await TableExistsAsync(table, ct)) continue;
            foreach (var statement in TableStatements(statements, table)) await ExecuteAsync(statement, ct);
        }
    }

    /// <summary>Adds the model's column unless it is there; existing rows get <paramref name="existingRows"/> (required for a NOT NULL column).</summary>
    public async Task AddColumnAsync(string table, string column, object? existingRows = null, CancellationToken ct = default)
    {
        if (await ColumnExistsAsync(table, column, ct)) return;
        var operation = new AddColumnOperation { Table = table, Name = column };
        Describe(operation, table, column);
        operation.DefaultValue = existingRows;
        await GenerateAsync(operation, ct);
    }

    /// <summary>Renames a column when the old name is there and the new one is not.</summary>
    public async Task RenameColumnAsync(string table, string from, string to, CancellationToken ct = default)
    {
        if (!await ColumnExistsAsync(table, from, ct) || await ColumnExistsAsync(table, to, ct)) return;
        await GenerateAsync(new RenameColumnOperation { Table = table, Name = from, NewName = to }, ct);
    }

    /// <summary>
    /// Gives the columns the model's definition (type, length, collation, nullability). SQLite cannot alter a column:
    /// there the table is rebuilt from the model in one transaction, as EF Core's own SQLite migrations do.
    /// </summary>
    public async Task AlterColumnsAsync(string table, string[] columns, CancellationToken ct = default)
    {
        if (url.Kind == DatabaseKind.Sqlite)
        {
            await RebuildSqliteTableAsync(table, ct);
            return;
        }
        foreach (var statement in CreateScript().Where(s => s.StartsWith("CREATE COLLATION ", StringComparison.Ordinal)))
            await ExecuteAsync(statement.Replace("CREATE COLLATION ", "CREATE COLLATION IF NOT EXISTS ", StringComparison.Ordinal), ct);
        foreach (var column in columns)
        {
            var operation = new AlterColumnOperation { Table = table, Name = column };
            Describe(operation, table, column);
            await GenerateAsync(operation, ct);
        }
    }

    void Describe(ColumnOperation operation, string table, string column)
    {
        var store = StoreObjectIdentifier.Table(table);
        var property = _model.GetEntityTypes().Where(e => e.GetTableName() == table).SelectMany(e => e.GetProperties())
            .FirstOrDefault(p => p.GetColumnName(store) == column) ?? throw new InvalidOperationException($"the model has no column {table}.{column}");
        var mapping = property.GetRelationalTypeMapping();
        operation.ClrType = Nullable.GetUnderlyingType(mapping.ClrType) ?? mapping.ClrType;
        operation.ColumnType = property.GetColumnType(store);
        operation.IsNullable = property.IsColumnNullable(store);
        operation.MaxLength = property.GetMaxLength(store);
        operation.Collation = property.GetCollation(store);
        operation.IsUnicode = property.IsUnicode(store);
    }

    async Task RebuildSqliteTableAsync(string table, CancellationToken ct)
    {
        var name = _sql.DelimitIdentifier(table);
        var temporary = _sql.DelimitIdentifier(table + "_stratus_rebuild");
        var statements = TableStatements(CreateScript(), table).ToList();
        var columns = string.Join(", ", (await ColumnsAsync(table, ct)).Intersect(ModelColumns(table)).Select(_sql.DelimitIdentifier));
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            // Other tables' foreign keys must not see the table dropped for a moment (outside the transaction: SQLite ignores it inside).
            await ExecuteAsync("PRAGMA foreign_keys = OFF", ct);
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await ExecuteAsync(statements[0].Replace("CREATE TABLE " + name + " ", "CREATE TABLE " + temporary + " ", StringComparison.Ordinal), ct);
            await ExecuteAsync($"INSERT INTO {temporary} ({columns}) SELECT {columns} FROM {name}", ct);
            await ExecuteAsync($"DROP TABLE {name}", ct);
            await ExecuteAsync($"ALTER TABLE {temporary} RENAME TO {name}", ct);
            foreach (var index in statements.Skip(1)) await ExecuteAsync(index, ct);
            await transaction.CommitAsync(ct);
        }
        finally
        {
            await ExecuteAsync("PRAGMA foreign_keys = ON", CancellationToken.None);
            await db.Database.CloseConnectionAsync();
        }
    }

    IEnumerable<string> ModelColumns(string table)
    {
        var store = StoreObjectIdentifier.Table(table);
        return _model.GetEntityTypes().Where(e => e.GetTableName() == table).SelectMany(e => e.GetProperties())
            .Select(p => p.GetColumnName(store)).OfType<string>();
    }

    async Task<List<string>> ColumnsAsync(string table, CancellationToken ct)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM {_sql.DelimitIdentifier(table)} WHERE 1 = 0";
            await using var reader = await command.ExecuteReaderAsync(ct);
            return [.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetName)];
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    // The model's whole create script, generated once per database however many steps read it.
    string[]? _script;

    string[] CreateScript() => _script ??=
        db.Database.GenerateCreateScript().Split(_sql.StatementTerminator + "\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The table's CREATE TABLE, then the CREATE INDEX statements ON it.</summary>
    IEnumerable<string> TableStatements(string[] script, string table)
    {
        var name = _sql.DelimitIdentifier(table);
        return script.Where(s => s.StartsWith("CREATE TABLE " + name + " ", StringComparison.Ordinal))
            .Concat(script.Where(s => s.StartsWith("CREATE", StringComparison.Ordinal) && s.Contains(" INDEX ", StringComparison.Ordinal)
                && s.Contains(" ON " + name + " ", StringComparison.Ordinal)));
    }

    async Task GenerateAsync(MigrationOperation operation, CancellationToken ct)
    {
        foreach (var command in db.GetService<IMigrationsSqlGenerator>().Generate([operation], _model))
            await ExecuteAsync(command.CommandText, ct);
    }

    Task ExecuteAsync(string sql, CancellationToken ct) => db.Database.ExecuteSqlRawAsync(sql, ct);

    public async Task<bool> TableExistsAsync(string table, CancellationToken ct = default) => await ProbeAsync($"SELECT 1 FROM {_sql.DelimitIdentifier(table)} WHERE 1 = 0", ct);

    public async Task<bool> ColumnExistsAsync(string table, string column, CancellationToken ct = default) =>
        await ProbeAsync($"SELECT {_sql.DelimitIdentifier(column)} FROM {_sql.DelimitIdentifier(table)} WHERE 1 = 0", ct);

    async Task<bool> ProbeAsync(string sql, CancellationToken ct)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteScalarAsync(ct);
            return true;
        }
        catch (DbException)
        {
            return false;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
