using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Dashboard.OpenStack;
using Stratus.Dashboard.Session;

namespace Stratus.Dashboard.Pages;

/// <summary>
/// What every signed-in page shares: the cloud of the session's region, and the messages shown above the
/// content. A service's refusal becomes the page's error message (the service's own words), never a
/// stack trace; a rejected token (401) ends the session.
/// </summary>
public abstract class CloudPageModel : PageModel
{
    Cloud? _cloud;

    protected Cloud Cloud => _cloud ??= HttpContext.RequestServices.GetRequiredService<Cloud>();

    public CloudSession Session => Cloud.Session;

    /// <summary>An error of this request, shown on the page.</summary>
    public string? Error { get; set; }

    /// <summary>What a form post could not accept: the form's own checks and the service's refusal, shown above the form.</summary>
    public List<string> Errors { get; } = [];

    /// <summary>Messages carried over a redirect (post, redirect, get).</summary>
    [TempData] public string? Flash { get; set; }
    [TempData] public string? FlashError { get; set; }

    /// <summary>Runs a read; on a service error the page still renders, with the service's message.</summary>
    protected async Task<T?> TryAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (CloudException e) when (e.Status != 401)
        {
            Error ??= e.Message;
            return default;
        }
    }

    /// <summary>
    /// Runs an action of a form post, then redirects back with a message of what happened: <paramref name="done"/>,
    /// or the service's message, after <paramref name="failed"/> where given (Horizon's "Unable to delete network x: ...").
    /// </summary>
    protected async Task<IActionResult> ActAsync(Func<Task> action, string done, string? page = null, object? routeValues = null, string? failed = null)
    {
        try
        {
            await action();
            Flash = done;
        }
        catch (CloudException e) when (e.Status != 401)
        {
            FlashError = failed is null ? e.Message : $"{failed}: {e.Message}";
        }
        return page is null ? RedirectToPage(routeValues) : RedirectToPage(page, routeValues);
    }

    public static string Ago(string? iso)
    {
        if (!DateTimeOffset.TryParse(iso, System.Globalization.CultureInfo.InvariantCulture, out var t)) return iso ?? "";
        var d = DateTimeOffset.UtcNow - t;
        return d.TotalSeconds < 60 ? "just now" : d.TotalMinutes < 60 ? $"{(int)d.TotalMinutes} min ago"
            : d.TotalHours < 24 ? $"{(int)d.TotalHours} h ago" : t.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
    }

    public static string Size(long? bytes) => bytes switch
    {
        null => "",
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / 1024.0 / 1024:0.#} MiB",
        _ => $"{bytes / 1024.0 / 1024 / 1024:0.##} GiB",
    };
}
