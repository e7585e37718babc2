using System.Net;

namespace Stratus.Core.Http;

/// <summary>
/// The one error type handlers throw; <see cref="ErrorMiddleware"/> turns it into the service's
/// error body (Keystone's <c>{"error": {"code", "title", "message"}}</c> by default).
/// </summary>
public sealed class OpenStackError(int code, string title, string message) : Exception(message)
{
    public int Code { get; } = code;
    public string Title { get; } = title;

    /// <summary>Extra response headers (for example WWW-Authenticate on a 401).</summary>
    public Dictionary<string, string> Headers { get; } = [];

    public static OpenStackError BadRequest(string message) => new(400, "Bad Request", message);
    public static OpenStackError Unauthorized(string message = "The request you have made requires authentication.") =>
        new(401, "Unauthorized", message);
    public static OpenStackError Forbidden(string message = "You are not authorized to perform the requested action.") =>
        new(403, "Forbidden", message);
    public static OpenStackError NotFound(string message) => new(404, "Not Found", message);
    public static OpenStackError MethodNotAllowed(string message = "The method is not allowed for the requested URL.") =>
        new(405, "Method Not Allowed", message);
    public static OpenStackError Conflict(string message) => new(409, "Conflict", message);
    public static OpenStackError TooLarge(string message = "Request is too large.") => new(413, "Request Entity Too Large", message);
    public static OpenStackError UnsupportedMediaType(string message) => new(415, "Unsupported Media Type", message);
    public static OpenStackError Unavailable(string message) => new(503, "Service Unavailable", message);

    public static string TitleFor(int code) =>
        code switch
        {
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            409 => "Conflict",
            413 => "Request Entity Too Large",
            415 => "Unsupported Media Type",
            _ => ((HttpStatusCode)code).ToString(),
        };
}
