using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Stratus.Dashboard.OpenStack;
using Stratus.Dashboard.Session;

namespace Stratus.Dashboard.Pages.Auth;

/// <summary>Horizon's login form: <c>domain</c>, <c>username</c>, <c>password</c>, posted as a plain HTML form.</summary>
public sealed class LoginModel(SessionManager sessions, DashboardOptions options) : PageModel
{
    [BindProperty(Name = "domain")] public string? Domain { get; set; }
    [BindProperty(Name = "username")] public string? Username { get; set; }
    [BindProperty(Name = "password")] public string? Password { get; set; }
    [BindProperty(Name = "next", SupportsGet = true)] public string? Next { get; set; }
    [BindProperty(Name = "expired", SupportsGet = true)] public string? Expired { get; set; }

    public List<string> Errors { get; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        // After the identity refused the session's token, the cookie is gone; never send such a browser round again.
        if (Expired is not null) await HttpContext.SignOutAsync(SessionManager.Scheme);
        else if (User.Identity?.IsAuthenticated == true) return LocalRedirect(SafeNext());
        Domain ??= options.DefaultDomain;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        Domain = Domain?.Trim();
        Username = Username?.Trim();
        if (string.IsNullOrEmpty(Domain)) Errors.Add("Domain is required.");
        if (string.IsNullOrEmpty(Username)) Errors.Add("User Name is required.");
        if (string.IsNullOrEmpty(Password)) Errors.Add("Password is required.");
        if (Errors.Count > 0) return Page();
        try
        {
            await sessions.SignInAsync(HttpContext, Domain!, Username!, Password!, Request.Cookies["stratus_last_project"]);
        }
        catch (CloudException e)
        {
            Errors.Add(e.Status == 0 ? "Unable to reach the identity service: " + e.Message : e.Message);
            return Page();
        }
        finally
        {
            Password = null;
        }
        return LocalRedirect(SafeNext());
    }

    string SafeNext() => Next is { Length: > 0 } n && Url.IsLocalUrl(n) && n.StartsWith(options.WebRoot + "/", StringComparison.Ordinal) && !n.Contains("/auth/", StringComparison.OrdinalIgnoreCase)
        ? n
        : options.WebRoot + "/project";
}
