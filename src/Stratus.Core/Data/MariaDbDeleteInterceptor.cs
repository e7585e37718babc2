using System.Data.Common;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Stratus.Core.Data;

/// <summary>
/// Oracle's MySQL provider writes EF Core's <c>ExecuteDelete</c> as <c>DELETE FROM `t` AS `a` WHERE ...</c>, which MySQL
/// 8.0.16+ accepts and MariaDB (the seed's database) refuses as a syntax error. The multi-table form
/// <c>DELETE `a` FROM `t` AS `a` WHERE ...</c> means the same on both.
/// </summary>
public sealed partial class MariaDbDeleteInterceptor : DbCommandInterceptor
{
    public static readonly MariaDbDeleteInterceptor Instance = new();

    /// <summary>The statement in the form both servers accept (others unchanged).</summary>
    public static string Rewrite(string sql) => AliasedDelete().Replace(sql, "DELETE $2 FROM $1 AS $2$3");

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        command.CommandText = Rewrite(command.CommandText);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        command.CommandText = Rewrite(command.CommandText);
        return ValueTask.FromResult(result);
    }

    [GeneratedRegex(@"^DELETE FROM (`[^`]+`) AS (`[^`]+`)(\s)", RegexOptions.Multiline)]
    private static partial Regex AliasedDelete();
}
