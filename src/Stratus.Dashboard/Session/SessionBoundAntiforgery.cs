using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;

namespace Stratus.Dashboard.Session;

/// <summary>
/// Binds every form token to the login session it was rendered in (a hash of the session's unscoped
/// token): a form token captured from one session is refused in any other, even of the same user and
/// with the same antiforgery cookie, so a replayed post after logging out and in again is rejected.
/// </summary>
public sealed class SessionBoundAntiforgery : IAntiforgeryAdditionalDataProvider
{
    public string GetAdditionalData(HttpContext context) => Of(context);

    public bool ValidateAdditionalData(HttpContext context, string additionalData) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Of(context)), Encoding.ASCII.GetBytes(additionalData ?? ""));

    static string Of(HttpContext context) =>
        CloudSession.From(context.User) is { } s ? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s.UnscopedToken)))[..32] : "";
}
