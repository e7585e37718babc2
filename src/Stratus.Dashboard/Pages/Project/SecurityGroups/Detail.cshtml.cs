using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Stratus.Dashboard.OpenStack;

namespace Stratus.Dashboard.Pages.Project.SecurityGroups;

/// <summary>One security group's rules: add one (direction, protocol, port range, remote CIDR or group), delete one (the group's delete is the list's).</summary>
public sealed class DetailModel : NetworkPageModel
{
    public static readonly string[] Protocols = ["tcp", "udp", "icmp"];

    [BindProperty(SupportsGet = true)] public string Id { get; set; } = "";

    public JsonObject? Group { get; private set; }
    public IReadOnlyList<JsonObject> Rules { get; private set; } = [];
    /// <summary>The project's groups, as a rule's remote and by name in the table.</summary>
    public IReadOnlyList<JsonObject> Groups { get; private set; } = [];

    [BindProperty] public string Direction { get; set; } = "ingress";
    [BindProperty] public string EtherType { get; set; } = "IPv4";
    /// <summary>Empty: any protocol.</summary>
    [BindProperty] public string? Protocol { get; set; } = "tcp";
    [BindProperty] public int? PortMin { get; set; }
    [BindProperty] public int? PortMax { get; set; }
    /// <summary>Empty: the remote is <see cref="Cidr"/>.</summary>
    [BindProperty] public string? RemoteGroup { get; set; }
    [BindProperty] public string? Cidr { get; set; } = "0.0.0.0/0";
    [BindProperty] public string? Description { get; set; }

    public async Task OnGetAsync()
    {
        Group = await TryAsync(() => Cloud.ShowAsync("security-groups", "security_group", Id));
        if (Group is null) return;
        Rules = (Group["security_group_rules"] as JsonArray ?? []).OfType<JsonObject>()
            .OrderBy(r => (string?)r["direction"], StringComparer.Ordinal).ThenBy(r => (string?)r["ethertype"], StringComparer.Ordinal)
            .ThenBy(r => (string?)r["protocol"], StringComparer.Ordinal).ThenBy(r => (int?)r["port_range_min"]).ToList();
        Groups = (await ReadAsync(() => Cloud.OwnAsync("security-groups"))).OrderBy(Networking.NameOf, StringComparer.Ordinal).ToList();
    }

    public string GroupName(string? id) => Groups.FirstOrDefault(g => (string?)g["id"] == id) is { } g ? Networking.NameOf(g) : id ?? "";

    public static string PortRange(JsonObject rule) => ((int?)rule["port_range_min"], (int?)rule["port_range_max"]) switch
    {
        (null, null) => "Any",
        (var min, var max) when min == max || max is null => min!.Value.ToString(CultureInfo.InvariantCulture),
        (var min, var max) => $"{min} - {max}",
    };

    public async Task<IActionResult> OnPostAddRuleAsync()
    {
        if (Direction is not ("ingress" or "egress")) Errors.Add($"'{Direction}' is not a direction.");
        if (EtherType is not ("IPv4" or "IPv6")) Errors.Add($"'{EtherType}' is not an ether type.");
        if (!string.IsNullOrEmpty(Protocol) && !Protocols.Contains(Protocol)) Errors.Add($"'{Protocol}' is not a protocol this form offers.");
        if (Errors.Count > 0) return await InvalidAsync(OnGetAsync);
        var rule = new JsonObject
        {
            ["security_group_id"] = Id,
            ["direction"] = Direction,
            ["ethertype"] = EtherType,
            ["protocol"] = string.IsNullOrEmpty(Protocol) ? null : Protocol,
            ["port_range_min"] = PortMin,
            ["port_range_max"] = PortMax ?? PortMin,
            ["description"] = Description?.Trim() ?? "",
        };
        if (!string.IsNullOrEmpty(RemoteGroup)) rule["remote_group_id"] = RemoteGroup;
        else if (!string.IsNullOrWhiteSpace(Cidr)) rule["remote_ip_prefix"] = Cidr.Trim();
        try
        {
            await Cloud.CreateAsync("security-group-rules", "security_group_rule", rule);
            Flash = "Added rule.";
            return RedirectToPage(new { id = Id });
        }
        catch (CloudException e) when (e.Status != 401)
        {
            return await RefusedAsync("Unable to add rule to security group", e, OnGetAsync);
        }
    }

    public Task<IActionResult> OnPostDeleteRuleAsync([FromForm] string rule) =>
        ActAsync(() => Cloud.RemoveAsync("security-group-rules", rule), $"Deleted rule {rule}.", routeValues: new { id = Id }, failed: "Unable to delete rule");
}
