using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Stratus.Core.Http;

/// <summary>
/// One service's microversions, as it declares them: the service name of its
/// <c>OpenStack-API-Version: SERVICE X.Y</c> header (compute, placement, volume), the older header some
/// accept alone (Nova's <c>X-OpenStack-Nova-API-Version</c>), the range it serves, and its own texts for
/// a malformed version (400) and one outside the range (406). A service without microversions
/// (Neutron) declares none.
/// </summary>
public sealed class Microversions(string service, ApiVersionRequest min, ApiVersionRequest max)
{
    public string Service => service;
    public ApiVersionRequest Min => min;
    public ApiVersionRequest Max => max;

    /// <summary>The header that carries the bare version (no service name), read when the standard one names none.</summary>
    public string? LegacyHeader { get; init; }

    /// <summary>The 400's message for a version that is not MAJOR.MINOR of this service's major.</summary>
    public required Func<string, string> InvalidFormat { get; init; }

    /// <summary>The 406's message for a version outside <see cref="Min"/>..<see cref="Max"/>.</summary>
    public required Func<string, string> NotAcceptable { get; init; }

    /// <summary>The response's <c>Vary</c>, spelled as the service spells it.</summary>
    public string Vary { get; init; } = "OpenStack-API-Version";

    string Key => "stratus.microversion." + service;

    /// <summary>The version a request asks for: <see cref="Min"/> when it names none, <see cref="Max"/> for "latest".</summary>
    public ApiVersionRequest Parse(HttpRequest request)
    {
        string? text = null;
        foreach (var value in request.Headers["OpenStack-API-Version"])
        {
            var parts = value?.Trim().Split(' ', 2, StringSplitOptions.TrimEntries);
            if (parts is [var name, var v] && name.Equals(service, StringComparison.OrdinalIgnoreCase)) text = v;
        }
        if (text is null && LegacyHeader is not null) text = request.Headers[LegacyHeader].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(text)) return min;
        if (text.Trim().Equals("latest", StringComparison.OrdinalIgnoreCase)) return max;
        var dot = text.Split('.');
        if (dot.Length != 2 || dot[0].Trim() != min.Major.ToString(CultureInfo.InvariantCulture)
            || !int.TryParse(dot[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
            throw OpenStackError.BadRequest(InvalidFormat(text));
        if (minor < min.Minor || minor > max.Minor) throw new OpenStackError(406, "Not Acceptable", NotAcceptable(text));
        return new ApiVersionRequest(min.Major, minor);
    }

    /// <summary>Remembers the request's version for <see cref="Of"/> and says on the response which version answered.</summary>
    public void Apply(HttpContext http, ApiVersionRequest version)
    {
        http.Items[Key] = version;
        http.Response.Headers["OpenStack-API-Version"] = $"{service} {version}";
        if (LegacyHeader is not null) http.Response.Headers[LegacyHeader] = version.ToString();
        http.Response.Headers.Vary = Vary;
    }

    /// <summary>The version of a request that went through <see cref="Middleware"/> (or <see cref="Apply"/>); <see cref="Min"/> otherwise.</summary>
    public ApiVersionRequest Of(HttpContext http) => http.Items[Key] is ApiVersionRequest v ? v : min;

    public Task Middleware(HttpContext http, RequestDelegate next)
    {
        Apply(http, Parse(http.Request));
        return next(http);
    }
}

/// <summary>A microversion a request asked for (Nova's and Cinder's APIVersionRequest): MAJOR.MINOR.</summary>
public readonly record struct ApiVersionRequest(int Major, int Minor)
{
    /// <summary>Whether the request asked for MAJOR.<paramref name="minor"/> or later (a service has one major).</summary>
    public bool AtLeast(int minor) => Minor >= minor;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}");
}
