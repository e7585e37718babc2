using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.Instances;

/// <summary>The project's instances in the selected region, their power actions, and their status for the live updates.</summary>
public sealed class IndexModel : CloudPageModel
{
    public IReadOnlyList<JsonObject> Servers { get; private set; } = [];
    public Dictionary<string, string> FlavorNames { get; } = [];
    public Dictionary<string, string> ImageNames { get; } = [];
    public Dictionary<(string Server, string FixedIp), string> FloatingIps { get; private set; } = [];

    public async Task OnGetAsync()
    {
        var servers = await TryAsync(() => Cloud.GetAsync("compute", "/servers/detail"));
        if (servers is null) return;
        Servers = (servers["servers"] as JsonArray ?? []).OfType<JsonObject>().OrderBy(s => (string?)s["name"], StringComparer.Ordinal).ToList();
        await NamesAsync(Cloud, FlavorNames, ImageNames, TryAsync);
        if (Servers.Count > 0) FloatingIps = await TryAsync(() => FloatingIpsAsync(Cloud)) ?? [];
    }

    /// <summary>
    /// The project's associated floating IPs by server and fixed IP: a server's addresses name its fixed IPs, and
    /// Horizon adds the floating ones from the network service too.
    /// </summary>
    internal static async Task<Dictionary<(string Server, string FixedIp), string>> FloatingIpsAsync(OpenStack.Cloud cloud)
    {
        var map = new Dictionary<(string, string), string>();
        if (!await cloud.HasServiceAsync(Networking.Service)) return map;
        foreach (var f in await cloud.OwnAsync("floatingips"))
            if ((string?)f["port_details"]?["device_id"] is { } server && (string?)f["fixed_ip_address"] is { } fixedIp && (string?)f["floating_ip_address"] is { } address)
                map[(server, fixedIp)] = address;
        return map;
    }

    /// <summary>A server's addresses by network: its fixed IPs, each followed by the floating IP it is mapped to.</summary>
    public static IReadOnlyList<(string Network, string Address, bool Floating)> Addresses(JsonObject server, IReadOnlyDictionary<(string Server, string FixedIp), string> floatingIps)
    {
        var id = (string?)server["id"] ?? "";
        var list = new List<(string, string, bool)>();
        foreach (var (network, addresses) in server["addresses"] as JsonObject ?? [])
            foreach (var a in (addresses as JsonArray ?? []).OfType<JsonObject>())
            {
                if ((string?)a["addr"] is not { } address) continue;
                var floating = (string?)a["OS-EXT-IPS:type"] == "floating";
                list.Add((network, address, floating));
                if (!floating && floatingIps.TryGetValue((id, address), out var mapped)) list.Add((network, mapped, true));
            }
        return list.Distinct().ToList();
    }

    /// <summary>Flavor and image names for the tables (the server body names them by id only).</summary>
    internal static async Task NamesAsync(OpenStack.Cloud cloud, Dictionary<string, string> flavors, Dictionary<string, string> images,
        Func<Func<Task<JsonObject>>, Task<JsonObject?>> tryAsync)
    {
        foreach (var f in ((await tryAsync(() => cloud.GetAsync("compute", "/flavors")))?["flavors"] as JsonArray ?? []).OfType<JsonObject>())
            flavors[(string)f["id"]!] = (string?)f["name"] ?? "";
        foreach (var i in ((await tryAsync(() => cloud.GetAsync("image", "/v2/images?limit=1000")))?["images"] as JsonArray ?? []).OfType<JsonObject>())
            images[(string)i["id"]!] = (string?)i["name"] ?? "";
    }

    /// <summary>GET ?handler=Status: what the page's script polls while something is in transition.</summary>
    public async Task<IActionResult> OnGetStatusAsync()
    {
        var servers = await Cloud.GetAsync("compute", "/servers/detail");
        return new JsonResult((servers["servers"] as JsonArray ?? []).OfType<JsonObject>().Select(Status));
    }

    internal static object Status(JsonObject s) => new
    {
        id = (string?)s["id"],
        status = (string?)s["status"],
        task_state = (string?)s["OS-EXT-STS:task_state"],
        power_state = PowerState(s),
    };

    public async Task<IActionResult> OnPostActionAsync([FromForm] string id, [FromForm] string action)
    {
        (JsonObject? body, string done) = action switch
        {
            "start" => (new JsonObject { ["os-start"] = null }, "Started"),
            "stop" => (new JsonObject { ["os-stop"] = null }, "Stopped"),
            "reboot" => (new JsonObject { ["reboot"] = new JsonObject { ["type"] = "SOFT" } }, "Rebooted"),
            "hard-reboot" => (new JsonObject { ["reboot"] = new JsonObject { ["type"] = "HARD" } }, "Hard rebooted"),
            "delete" => ((JsonObject?)null, "Scheduled deletion of"),
            _ => (null, ""),
        };
        if (done.Length == 0)
        {
            FlashError = $"Unknown action '{action}'.";
            return RedirectToPage();
        }
        var path = "/servers/" + Uri.EscapeDataString(id);
        return await ActAsync(() => body is null ? Cloud.DeleteAsync("compute", path) : Cloud.PostAsync("compute", path + "/action", body),
            $"{done} instance {id}.");
    }

    public static string PowerState(JsonObject s) => (int?)s["OS-EXT-STS:power_state"] switch
    {
        0 => "No State",
        1 => "Running",
        3 => "Paused",
        4 => "Shut Down",
        6 => "Crashed",
        7 => "Suspended",
        _ => "",
    };

    public static bool Transitional(JsonObject s) =>
        (string?)s["OS-EXT-STS:task_state"] is not null || (string?)s["status"] is "BUILD" or "REBOOT" or "HARD_REBOOT" or "MIGRATING" or "RESIZE";
}
