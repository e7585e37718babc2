using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Stratus.Core.Data;

/// <summary>
/// Every timestamp is stored in UTC; SQLite and MySQL hand them back without a kind, so say so on read.
/// Use in <c>ConfigureConventions</c>: <c>c.Properties&lt;DateTime&gt;().HaveConversion&lt;UtcConverter&gt;()</c>.
/// </summary>
public sealed class UtcConverter() : ValueConverter<DateTime, DateTime>(
    v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(), v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
