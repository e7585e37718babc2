using System.Globalization;

namespace Stratus.Compute.Api;

/// <summary>
/// The compute API's microversion of a request: <c>OpenStack-API-Version: compute 2.x</c> or the older
/// <c>X-OpenStack-Nova-API-Version: 2.x</c>, "latest" for the newest, 2.1 when absent; 406 outside
/// what is served. Every response says which version answered, and that it varies with it.
/// </summary>
public readonly record struct Microversion(int Minor) : IComparable<Microversion>
{
    public static readonly Microversion Min = new(1), Max = new(92);

    public bool AtLeast(int minor) => Minor >= minor;

    public int CompareTo(Microversion other) => Minor.CompareTo(other.Minor);

    public override string ToString() => "2." + Minor.ToString(CultureInfo.InvariantCulture);

    public static Microversion Parse(HttpRequest request)
    {
        string? text = null;
        foreach (var value in request.Headers["OpenStack-API-Version"])
        {
            var parts = value?.Trim().Split(' ', 2, StringSplitOptions.TrimEntries);
            if (parts is [var service, var v] && service.Equals("compute", StringComparison.OrdinalIgnoreCase)) text = v;
        }
        text ??= request.Headers["X-OpenStack-Nova-API-Version"].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(text)) return Min;
        if (text.Trim().Equals("latest", StringComparison.OrdinalIgnoreCase)) return Max;
        var dot = text.Split('.');
        if (dot.Length != 2 || dot[0].Trim() != "2" || !int.TryParse(dot[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
            throw OpenStackError.BadRequest($"API Version String {text} is of invalid format. Must be of format MajorNum.MinorNum.");
        if (minor < Min.Minor || minor > Max.Minor)
            throw new OpenStackError(406, "Not Acceptable", $"Version {text} is not supported by the API. Minimum is {Min} and maximum is {Max}.");
        return new Microversion(minor);
    }

    const string Key = "stratus.microversion";

    public static Microversion Of(HttpContext http) => http.Items[Key] is Microversion v ? v : Min;

    /// <summary>Reads the request's version and stamps it on the response.</summary>
    public static async Task Middleware(HttpContext http, RequestDelegate next)
    {
        http.Response.Headers.Vary = "OpenStack-API-Version, X-OpenStack-Nova-API-Version";
        var v = Min;
        if (http.Request.Path.StartsWithSegments("/v2.1") || http.Request.Path.StartsWithSegments("/v2")) v = Parse(http.Request);
        http.Items[Key] = v;
        // Nova answers with the request id under its old name too.
        http.Response.OnStarting(() =>
        {
            if (http.Response.Headers.TryGetValue("X-Openstack-Request-Id", out var id)) http.Response.Headers["X-Compute-Request-Id"] = id;
            return Task.CompletedTask;
        });
        http.Response.Headers["OpenStack-API-Version"] = "compute " + v;
        http.Response.Headers["X-OpenStack-Nova-API-Version"] = v.ToString();
        await next(http);
    }
}
