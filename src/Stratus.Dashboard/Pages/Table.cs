namespace Stratus.Dashboard.Pages;

/// <summary>A read-only table of the admin pages: headers, rows of text, and which columns show a status badge.</summary>
public sealed record Table(string Id, string Caption, IReadOnlyList<string> Headers, IReadOnlyList<string?[]> Rows, string Empty = "Nothing to show.")
{
    public IReadOnlySet<int> StatusColumns { get; init; } = new HashSet<int>();
}
