using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Logging;

namespace Stratus.Dashboard.Pages;

/// <summary>Every failure's page: a readable sentence and the status, never a stack trace.</summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class ErrorModel(ILogger<ErrorModel> log) : PageModel
{
    public int Code { get; private set; }
    public string Title { get; private set; } = "";
    public string Message { get; private set; } = "";

    public void OnGet(int? code) => Describe(code);

    public void OnPost(int? code) => Describe(code);

    void Describe(int? code)
    {
        if (HttpContext.Features.Get<IExceptionHandlerPathFeature>() is { Error: { } e } failure)
            log.LogError(e, "Unhandled error for {Path}", failure.Path);
        Code = code ?? 500;
        (Title, Message) = Code switch
        {
            400 => ("Request rejected", "The form could not be accepted: it has expired or was not sent from this dashboard. Reload the page and try again."),
            403 => ("Forbidden", "You are not authorized to access this page."),
            404 => ("Not found", "The page you asked for does not exist."),
            405 => ("Not allowed", "This page cannot be used that way."),
            413 => ("Too large", "The upload is larger than this dashboard accepts."),
            _ => ("Something went wrong", "The dashboard could not complete your request. Try again; if it keeps failing, ask your cloud operator to look at the dashboard's log."),
        };
        Response.StatusCode = Code;
    }
}
