using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project;

/// <summary>
/// A page of the network panels (networks, routers, security groups, floating IPs). In a region whose catalog
/// has no network service no handler runs: the page shows a note instead of its panel.
/// </summary>
public abstract class NetworkPageModel : CloudPageModel
{
    public bool HasNetwork { get; private set; }

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        HasNetwork = await TryAsync(() => Cloud.HasServiceAsync(Networking.Service));
        if (HasNetwork) await next();
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
