using System.Text.Json;
using System.Text.RegularExpressions;

namespace Stratus.Dashboard.OpenStack;

/// <summary>A service refused or failed a request; <see cref="Exception.Message"/> is what the service said, fit for the page.</summary>
public sealed partial class CloudException(int status, string message) : Exception(message)
{
    /// <summary>The HTTP status the service answered, or 0 when it could not be reached.</summary>
    public int Status { get; } = status;

    /// <summary>
    /// The message of an OpenStack error body, whichever service wrote it: Keystone's
    /// <c>{"error": {"message"}}</c>, Nova's <c>{"itemNotFound": {"message"}}</c>, Glance's <c>{"message"}</c>,
    /// or the text of a plain body.
    /// </summary>
    public static string MessageOf(int status, string body)
    {
        var fallback = $"The service answered {status}.";
        if (string.IsNullOrWhiteSpace(body)) return fallback;
        try
        {
            if (JsonNode.Parse(body) is JsonObject o)
            {
                if (o["message"] is JsonValue m && m.TryGetValue<string>(out var direct)) return direct;
                foreach (var (_, v) in o)
                    if (v is JsonObject inner && inner["message"] is JsonValue im && im.TryGetValue<string>(out var nested)) return nested;
                if (o["error"] is JsonValue e && e.TryGetValue<string>(out var text)) return text;
            }
        }
        catch (JsonException)
        {
        }
        var plain = Whitespace().Replace(Tags().Replace(body, " "), " ").Trim();
        return plain.Length == 0 ? fallback : plain.Length > 300 ? plain[..300] + "…" : plain;
    }

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tags();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
