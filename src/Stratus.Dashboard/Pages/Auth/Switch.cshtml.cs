using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;
using Stratus.Dashboard.Session;

namespace Stratus.Dashboard.Pages.Auth;

/// <summary>The project and region selectors: each posts here, then returns to the page it came from.</summary>
public sealed class SwitchModel(SessionManager sessions, DashboardOptions options) : CloudPageModel
{
    [BindProperty(Name = "next", SupportsGet = true)] public string? Next { get; set; }

    public IActionResult OnGet() => Back();

    public async Task<IActionResult> OnPostRegionAsync([FromForm(Name = "region")] string? region)
    {
        var regions = await TryAsync(() => Cloud.RegionsAsync()) ?? [];
        if (region is null || !regions.Contains(region))
        {
            FlashError = $"The catalog has no region '{region}'.";
            return Back();
        }
        await sessions.SwitchRegionAsync(HttpContext, Session, region);
        Flash = $"Switched to region {region}.";
        return Back();
    }

    public async Task<IActionResult> OnPostProjectAsync([FromForm(Name = "project")] string? project)
    {
        if (string.IsNullOrEmpty(project)) return Back();
        try
        {
            await sessions.SwitchProjectAsync(HttpContext, Session, project);
            Response.Cookies.Append("stratus_last_project", project, new() { HttpOnly = true, SameSite = SameSiteMode.Lax, Path = options.WebRoot.Length == 0 ? "/" : options.WebRoot, Secure = Request.IsHttps, MaxAge = TimeSpan.FromDays(30) });
            Flash = "Switched project.";
        }
        catch (CloudException e) when (e.Status != 401)
        {
            FlashError = e.Message;
        }
        return Back();
    }

    // Pages of one project's resources (an instance's or a network's detail, the launch form) make no sense in another
    // region or project: back to their list (/project/SECTION).
    IActionResult Back()
    {
        var next = Next is { Length: > 0 } n && Url.IsLocalUrl(n) && n.StartsWith(options.WebRoot + "/", StringComparison.Ordinal) ? n : options.WebRoot + "/project";
        var project = options.WebRoot + "/project/";
        if (next.StartsWith(project, StringComparison.OrdinalIgnoreCase) && next.IndexOf('/', project.Length) is var detail and >= 0) next = next[..detail];
        return LocalRedirect(next);
    }
}
