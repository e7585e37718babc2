using System.Globalization;

namespace Stratus.Identity.Api;

/// <summary>Keystone's timestamp formats.</summary>
public static class Time
{
    /// <summary>"2026-11-24T23:46:00.000000Z" (tokens' issued_at / expires_at).</summary>
    public static string IsoMicro(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture);

    /// <summary>"2026-11-24T23:46:00.000000" (resource timestamps such as password_expires_at).</summary>
    public static string Iso(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.ffffff", CultureInfo.InvariantCulture);
}
