using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Stratus.Dashboard.Session;

namespace Stratus.Dashboard.Pages.Auth;

/// <summary>Sign out: a form post (so no other site can sign a user out), revoking the session's tokens.</summary>
public sealed class LogoutModel(SessionManager sessions) : PageModel
{
    public IActionResult OnGet() => RedirectToPage("/Project/Index");

    public async Task<IActionResult> OnPostAsync()
    {
        await sessions.SignOutAsync(HttpContext, CloudSession.From(User));
        return RedirectToPage("/Auth/Login");
    }
}
