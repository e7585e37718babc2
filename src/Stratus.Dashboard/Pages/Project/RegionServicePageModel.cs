using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project;

/// <summary>
/// A page over one service of the selected region (the network panels, the volume panels). In a region whose
/// catalog has no such service no handler runs: the page shows a note instead of its panel.
/// </summary>
public abstract class RegionServicePageModel : CloudPageModel
{
    /// <summary>The catalog type the page needs.</summary>
    protected abstract string ServiceType { get; }

    public bool HasService { get; private set; }

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        HasService = await TryAsync(() => Cloud.HasServiceAsync(ServiceType));
        if (HasService) await next();
        else context.Result = Page();
    }

    /// <summary>A read of the page: the service's refusal becomes the page's message, and the list stays empty.</summary>
    protected async Task<List<JsonObject>> ReadAsync(Func<Task<List<JsonObject>>> read) => await TryAsync(read) ?? [];

    /// <summary>A form post refused by the service: its message after what failed, the page shown again (400) with the form as sent.</summary>
    protected async Task<IActionResult> RefusedAsync(string failed, CloudException e, Func<Task> reload)
    {
        Errors.Add($"{failed}: {e.Message}");
        return await InvalidAsync(reload);
    }

    /// <summary>The page again with its <see cref="CloudPageModel.Errors"/>, as a 400.</summary>
    protected async Task<IActionResult> InvalidAsync(Func<Task> reload)
    {
        Response.StatusCode = 400;
        await reload();
        return Page();
    }
}
