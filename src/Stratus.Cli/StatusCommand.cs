using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Stratus.Core.Auth;

namespace Stratus.Cli;

/// <summary>
/// <c>status</c>: every region's services at a glance, as the admin sees them through the catalog: the compute and volume
/// services (<c>os-services</c>) and the network agents with their state, and whether each other endpoint answers its
/// version document. A table with colour on a terminal, plain lines elsewhere; exit 1 when anything is down.
/// </summary>
static class StatusCommand
{
    internal sealed record Row(string Region, string Service, string Binary, string Host, string Zone, string Status, bool Up, string? Updated);

    public static async Task<int> RunAsync(string nodeDir, CancellationToken ct)
    {
        var env = NodeLayout.ReadOpenrc(new NodeLayout(nodeDir));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        IssuedToken token;
        try
        {
            token = await AdminLoginAsync(http, nodeDir, env, ct);
        }
        catch (KeystoneLoginException e)
        {
            await Console.Error.WriteLineAsync($"stratus: status: the identity at {env["OS_AUTH_URL"]} refused or did not answer: {e.Message}");
            return 1;
        }
        var rows = new List<Row>();
        foreach (var (region, type, url) in PublicEndpoints(token))
            rows.AddRange(await RowsAsync(http, token.Id, region, type, url, ct));
        rows = [.. rows.OrderBy(r => r.Region, StringComparer.Ordinal).ThenBy(r => r.Service, StringComparer.Ordinal).ThenBy(r => r.Binary, StringComparer.Ordinal).ThenBy(r => r.Host, StringComparer.Ordinal)];
        if (Console.IsOutputRedirected)
            foreach (var r in rows)
                Console.WriteLine(string.Join(' ', new[] { r.Region, r.Service, r.Binary, r.Host, r.Zone, r.Status, r.Up ? "up" : "down", r.Updated }
                    .Select(f => string.IsNullOrEmpty(f) ? "-" : f.Replace(' ', 'T'))));
        else
        {
            var table = new Table().AddColumns("Region", "Service", "Binary", "Host", "Zone", "Status", "State", "Updated");
            foreach (var r in rows)
                table.AddRow(r.Region, r.Service, r.Binary, r.Host, r.Zone, r.Status, r.Up ? "[green]up[/]" : "[red]down[/]", Markup.Escape(r.Updated ?? "-"));
            AnsiConsole.Write(table);
        }
        if (rows.Count == 0) await Console.Error.WriteLineAsync("stratus: status: the catalog names no service");
        return rows.Count > 0 && rows.All(r => r.Up) ? 0 : 1;
    }

    /// <summary>The admin's token, with the catalog, from the variables of a node's admin-openrc.</summary>
    internal static Task<IssuedToken> AdminLoginAsync(HttpClient http, string nodeDir, Dictionary<string, string> env, CancellationToken ct)
    {
        string Env(string key) => env.TryGetValue(key, out var v) ? v : throw new UsageException($"{nodeDir}/admin-openrc has no {key}");
        return new KeystoneLogin(http, Env("OS_AUTH_URL")).PasswordAsync(
            new PasswordUser(Env("OS_USERNAME"), DomainRef.Named(Env("OS_USER_DOMAIN_NAME")), Env("OS_PASSWORD")),
            LoginScope.Project(Env("OS_PROJECT_NAME"), DomainRef.Named(Env("OS_PROJECT_DOMAIN_NAME"))), withCatalog: true, ct);
    }

    /// <summary>Every public endpoint of the token's catalog, in every region, with the token's project filled in.</summary>
    internal static IEnumerable<(string Region, string Type, string Url)> PublicEndpoints(IssuedToken token) =>
        from service in token.RawCatalog.OfType<JsonObject>()
        from endpoint in (service["endpoints"] as JsonArray ?? []).OfType<JsonObject>()
        where (string?)endpoint["interface"] == "public"
        select ((string?)endpoint["region_id"] ?? "", (string)service["type"]!,
            ((string)endpoint["url"]!).Replace("%(project_id)s", token.ProjectId, StringComparison.Ordinal).TrimEnd('/'));

    /// <summary>A service's own list of its workers where it has one; else one row: whether the endpoint answers.</summary>
    static async Task<IEnumerable<Row>> RowsAsync(HttpClient http, string token, string region, string type, string url, CancellationToken ct)
    {
        if (type is "volumev2" or "block-storage") return []; // the same block storage as volumev3
        try
        {
            if (await WorkersAsync(http, token, region, type, url, ct) is { } workers) return workers;
            using var response = await http.GetAsync(url, ct);
            return [new Row(region, type, url, new Uri(url).Authority, "", "", (int)response.StatusCode < 500, null)];
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return [new Row(region, type, url, new Uri(url).Authority, "", "unreachable", false, null)];
        }
    }

    /// <summary>
    /// The compute and volume services (<c>os-services</c>) or the network agents behind a compute, volumev3 or network
    /// endpoint; null for another type. Throws <see cref="HttpRequestException"/> when the list cannot be had.
    /// </summary>
    internal static async Task<IEnumerable<Row>?> WorkersAsync(HttpClient http, string token, string region, string type, string url, CancellationToken ct)
    {
        switch (type)
        {
            case "compute" or "volumev3":
                var services = await GetAsync(http, token, url + "/os-services", ct);
                return (services["services"] as JsonArray ?? []).OfType<JsonObject>().Select(s => new Row(region, type == "compute" ? "compute" : "volume",
                    (string)s["binary"]!, (string)s["host"]!, (string?)s["zone"] ?? "", (string?)s["status"] ?? "", (string?)s["state"] == "up", (string?)s["updated_at"]));
            case "network":
                var agents = await GetAsync(http, token, url + "/v2.0/agents", ct);
                return (agents["agents"] as JsonArray ?? []).OfType<JsonObject>().Select(a => new Row(region, "network", (string)a["binary"]!, (string)a["host"]!,
                    (string?)a["availability_zone"] ?? "", (bool?)a["admin_state_up"] == false ? "disabled" : "enabled", (bool?)a["alive"] == true, (string?)a["heartbeat_timestamp"]));
            default:
                return null;
        }
    }

    /// <summary>A GET with the token; throws <see cref="HttpRequestException"/> on an error status.</summary>
    internal static async Task<JsonObject> GetAsync(HttpClient http, string token, string url, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("X-Auth-Token", token);
        using var response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonObject>(ct) ?? [];
    }
}
