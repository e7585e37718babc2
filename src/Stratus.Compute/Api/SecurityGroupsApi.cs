using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Stratus.Compute.Network;

namespace Stratus.Compute.Api;

/// <summary>
/// Nova's proxy to the network service's security groups, as the caller (nova.network.security_group_api):
/// <c>/os-security-groups</c> and <c>/os-security-group-rules</c> up to 2.35, a server's groups
/// (<c>/servers/{id}/os-security-groups</c>, <c>addSecurityGroup</c>, <c>removeSecurityGroup</c>) at every
/// version. Nova's shape: ingress rules only, a protocol without ports shown as 1-65535 or -1, a rule's
/// source group by name and project; Neutron's errors become Nova's (in use is 400, over quota 403).
/// </summary>
public static class SecurityGroupsApi
{
    const string Rule = "os_compute_api:os-security-groups:";

    public static RouteGroupBuilder MapSecurityGroups(this RouteGroupBuilder v21)
    {
        var groups = v21.MapGroup("/os-security-groups").UpTo(Microversion.MaxProxy);
        groups.MapGet("", ListAsync).RequirePolicy(Rule + "get");
        groups.MapPost("", CreateAsync).RequirePolicy(Rule + "create");
        groups.MapGet("/{id}", ShowAsync).RequirePolicy(Rule + "show");
        groups.MapPut("/{id}", UpdateAsync).RequirePolicy(Rule + "update");
        groups.MapDelete("/{id}", DeleteAsync).RequirePolicy(Rule + "delete");
        // A DELETE without an id matches none of Nova's routes.
        groups.MapDelete("", () => { throw OpenStackError.NotFound("The resource could not be found."); });
        var rules = v21.MapGroup("/os-security-group-rules").UpTo(Microversion.MaxProxy);
        rules.MapPost("", CreateRuleAsync).RequirePolicy(Rule + "rule:create");
        rules.MapDelete("/{id}", DeleteRuleAsync).RequirePolicy(Rule + "rule:delete");
        v21.MapGet("/servers/{id}/os-security-groups", ServerGroupsAsync);
        return v21;
    }

    // ---- /os-security-groups

    static async Task<IResult> ListAsync(HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        // Neutron has no all_tenants: an admin asking for it gets every project's groups.
        var query = caller.IsAdmin && http.Request.Query.ContainsKey("all_tenants") ? "" : "tenant_id=" + Uri.EscapeDataString(caller.ProjectId ?? "");
        var found = await neutron.ListAsync("security_groups", query, caller.Token, ct).OrUnexpected();
        var remotes = new RemoteGroups(neutron, caller.Token, found);
        var views = new List<JsonObject>();
        foreach (var group in Paging.Limited(found, http.Request.Query)) views.Add(await ViewAsync(group, remotes, ct));
        return new JsonResponse(new JsonObject { ["security_groups"] = Sorted(views) });
    }

    static async Task<IResult> ShowAsync(string id, HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var group = await GetAsync(neutron, ValidId(id), caller.Token, ct);
        return new JsonResponse(new JsonObject { ["security_group"] = await ViewAsync(group, new RemoteGroups(neutron, caller.Token, [group]), ct) });
    }

    static Task<IResult> CreateAsync(HttpContext http, NeutronClient neutron, CancellationToken ct) => SaveAsync(http, neutron, null, ct);

    static async Task<IResult> UpdateAsync(string id, HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        await GetAsync(neutron, ValidId(id), http.Caller().Token, ct);
        return await SaveAsync(http, neutron, id, ct);
    }

    /// <summary>
    /// A group made (no <paramref name="id"/>) or renamed, both name and description required as Nova's
    /// validate_property has them. Neutron's 401, and a create's 400, are Nova's 400; a create's 409 (Neutron's
    /// OverQuota) is Nova's SecurityGroupLimitExceeded, 403.
    /// </summary>
    static async Task<IResult> SaveAsync(HttpContext http, NeutronClient neutron, string? id, CancellationToken ct)
    {
        var caller = http.Caller();
        var body = await FromBodyAsync(http, "security_group", ct);
        var request = new JsonObject { ["security_group"] = new JsonObject { ["name"] = Property(body, "name"), ["description"] = Property(body, "description") } };
        JsonObject group;
        try
        {
            var answer = id is null
                ? await neutron.SendAsync(HttpMethod.Post, "/v2.0/security-groups", request, caller.Token, ct)
                : await neutron.SendAsync(HttpMethod.Put, $"/v2.0/security-groups/{id}", request, caller.Token, ct);
            group = answer?["security_group"] as JsonObject ?? throw NotFound(id ?? "");
        }
        catch (NeutronException e) when (e.Status == 401 || id is null && e.Status == 400)
        {
            throw OpenStackError.BadRequest(e.Message);
        }
        catch (NeutronException e) when (id is null && e.Status == 409)
        {
            throw OpenStackError.Forbidden(e.Message);
        }
        catch (NeutronException e)
        {
            throw e.Unexpected();
        }
        return new JsonResponse(new JsonObject { ["security_group"] = await ViewAsync(group, new RemoteGroups(neutron, caller.Token, [group]), ct) });
    }

    static async Task<IResult> DeleteAsync(string id, HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        await GetAsync(neutron, ValidId(id), caller.Token, ct);
        try
        {
            if (await neutron.SendAsync(HttpMethod.Delete, $"/v2.0/security-groups/{id}", null, caller.Token, ct) is null) throw NotFound(id);
        }
        catch (NeutronException e) when (e.Status == 409)
        {
            // In use by a port, or the project's default group: Nova's Invalid.
            throw OpenStackError.BadRequest(e.Message);
        }
        catch (NeutronException e)
        {
            throw e.Unexpected();
        }
        return Results.StatusCode(202);
    }

    // ---- /os-security-group-rules

    static async Task<IResult> CreateRuleAsync(HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var body = await FromBodyAsync(http, "security_group_rule", ct);
        var parent = await GetAsync(neutron, ValidId(Text(body["parent_group_id"])), caller.Token, ct);
        JsonObject? source = null;
        if (body["group_id"] is { } g) source = await GetAsync(neutron, ValidId(Text(g)), caller.Token, ct);
        var rule = NewIngressRule(body["ip_protocol"], body["from_port"], body["to_port"], groupId: (string?)source?["id"],
            cidr: source is null ? ParseCidr(Text(body["cidr"])) : null) ?? throw OpenStackError.BadRequest("Not enough parameters to build a valid rule.");
        if (rule.Cidr is { } cidr && cidr.Split('/') is [var net, "0"] && net is not ("0.0.0.0" or "::"))
            throw OpenStackError.BadRequest($"Bad prefix for network in cidr {cidr}");
        var parentId = (string)parent["id"]!;
        if (Ingress(parent).Any(existing => rule.SameAs(existing)))
            throw OpenStackError.BadRequest($"This rule already exists in group {parentId}");
        JsonObject created;
        try
        {
            var answer = await neutron.SendAsync(HttpMethod.Post, "/v2.0/security-group-rules", new JsonObject
            {
                ["security_group_rules"] = new JsonArray(rule.ToNeutron(parentId)),
            }, caller.Token, ct) ?? throw NotFound(parentId);
            created = (answer["security_group_rules"] as JsonArray)?[0] as JsonObject ?? throw new NeutronException(500, null, "no rule in the answer");
        }
        catch (NeutronException e) when (e.Status == 400)
        {
            throw OpenStackError.BadRequest(e.Message);
        }
        catch (NeutronException e) when (e.Status == 409)
        {
            throw OpenStackError.Forbidden(e.Message);
        }
        catch (NeutronException e)
        {
            throw e.Unexpected();
        }
        return new JsonResponse(new JsonObject { ["security_group_rule"] = RuleView(created, source is null ? null : RemoteGroups.Owner(source)) });
    }

    static async Task<IResult> DeleteRuleAsync(string id, HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var rule = await neutron.GetAsync($"/v2.0/security-group-rules/{ValidId(id)}", caller.Token, ct).OrUnexpected()
            ?? throw OpenStackError.NotFound($"Security group rule {id} does not exist");
        await GetAsync(neutron, (string)rule["security_group_rule"]!["security_group_id"]!, caller.Token, ct);
        await neutron.SendAsync(HttpMethod.Delete, $"/v2.0/security-group-rules/{id}", null, caller.Token, ct).OrUnexpected();
        return Results.StatusCode(202);
    }

    // ---- a server's groups

    static async Task<IResult> ServerGroupsAsync(string id, HttpContext http, CellDb db, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var instance = await ComputeAccess.FindServerAsync(db, id, caller, ct);
        http.Enforce(Rule + "list", new Dictionary<string, string?> { ["project_id"] = instance.ProjectId });
        var (ports, groups) = await PortsAndGroupsAsync(neutron, [id], caller.Token, detailed: true, ct).OrUnexpected();
        var remotes = new RemoteGroups(neutron, caller.Token, groups.Values);
        var views = new List<JsonObject>();
        foreach (var port in ports)
            foreach (var sg in SecurityGroupIds(port))
                if (groups.TryGetValue(sg, out var group)) views.Add(await ViewAsync(group, remotes, ct));
        return new JsonResponse(new JsonObject { ["security_groups"] = Sorted(views) });
    }

    /// <summary>
    /// The <c>security_groups</c> of servers' views, as Nova fills them from the network service: per server,
    /// the name of each group of each of its ports (the caller's view; a group they cannot see is left out).
    /// Only servers with NICs in their info cache are asked about; the network service failing leaves the key out.
    /// </summary>
    internal static async Task<Dictionary<string, JsonArray>> OfServersAsync(NeutronClient neutron, IEnumerable<Instance> servers, string token, CancellationToken ct)
    {
        var ids = servers.Where(s => ServerNetworks.Vifs(s.NetworkInfoJson).Count > 0).Select(s => s.Uuid).ToList();
        var result = new Dictionary<string, JsonArray>();
        if (ids.Count == 0) return result;
        try
        {
            var (ports, groups) = await PortsAndGroupsAsync(neutron, ids, token, detailed: false, ct);
            foreach (var port in ports)
                foreach (var sg in SecurityGroupIds(port))
                    if (groups.TryGetValue(sg, out var group))
                    {
                        var device = (string)port["device_id"]!;
                        if (!result.TryGetValue(device, out var list)) result[device] = list = [];
                        list.Add(new JsonObject { ["name"] = (string?)group["name"] is { Length: > 0 } name ? name : (string?)group["id"] });
                    }
        }
        catch (NeutronException)
        {
        }
        return result;
    }

    /// <summary>The servers' ports and the groups they name, asked for 150 at a time as Nova does (URLs have a limit).</summary>
    static async Task<(List<JsonObject> Ports, Dictionary<string, JsonObject> Groups)> PortsAndGroupsAsync(NeutronClient neutron, List<string> serverIds,
        string token, bool detailed, CancellationToken ct)
    {
        var ports = new List<JsonObject>();
        foreach (var chunk in serverIds.Chunk(150))
            ports.AddRange(await neutron.ListAsync("ports", string.Join('&', chunk.Select(i => "device_id=" + Uri.EscapeDataString(i))), token, ct));
        var groups = new Dictionary<string, JsonObject>();
        foreach (var chunk in ports.SelectMany(SecurityGroupIds).Distinct().Chunk(150))
        {
            var query = string.Join('&', chunk.Select(i => "id=" + Uri.EscapeDataString(i))) + (detailed ? "" : "&fields=id&fields=name");
            foreach (var group in await neutron.ListAsync("security_groups", query, token, ct)) groups[(string)group["id"]!] = group;
        }
        return (ports, groups);
    }

    static IEnumerable<string> SecurityGroupIds(JsonObject port) =>
        (port["security_groups"] as JsonArray ?? []).Select(s => (string?)s).OfType<string>();

    /// <summary>addSecurityGroup (nova's add_to_instance): the group added to every port of the server, as the caller.</summary>
    internal static async Task<IResult> AddToServerAsync(Instance instance, JsonNode? args, HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var name = GroupName(args);
        var (groupId, ports) = await GroupAndPortsAsync(instance, name, caller, neutron, ct);
        foreach (var port in ports)
        {
            var portSecurity = (bool?)port["port_security_enabled"] ?? true;
            var addressed = port["fixed_ips"] is JsonArray { Count: > 0 } || (string?)port["ip_allocation"] == "deferred";
            if (!(addressed && portSecurity)) throw CannotBeApplied();
            var groups = SecurityGroupIds(port).ToList();
            if (!groups.Contains(groupId)) groups.Add(groupId);
            try
            {
                await UpdatePortGroupsAsync(neutron, port, groups, caller.Token, ct);
            }
            catch (NeutronException e) when (e.Status == 400)
            {
                throw OpenStackError.BadRequest(e.Message);
            }
        }
        return Results.StatusCode(202);
    }

    /// <summary>removeSecurityGroup (nova's remove_from_instance): the group taken off the ports that have it; 404 when none has.</summary>
    internal static async Task<IResult> RemoveFromServerAsync(Instance instance, JsonNode? args, HttpContext http, NeutronClient neutron, CancellationToken ct)
    {
        var caller = http.Caller();
        var name = GroupName(args);
        var (groupId, ports) = await GroupAndPortsAsync(instance, name, caller, neutron, ct);
        var found = false;
        foreach (var port in ports)
        {
            var groups = SecurityGroupIds(port).ToList();
            if (!groups.Remove(groupId)) continue;
            await UpdatePortGroupsAsync(neutron, port, groups, caller.Token, ct);
            found = true;
        }
        if (!found) throw OpenStackError.NotFound($"Security group {name} not associated with the instance {instance.Uuid}");
        return Results.StatusCode(202);
    }

    static async Task UpdatePortGroupsAsync(NeutronClient neutron, JsonObject port, List<string> groups, string token, CancellationToken ct)
    {
        var body = new JsonObject { ["port"] = new JsonObject { ["security_groups"] = new JsonArray([.. groups.Select(g => (JsonNode)g)]) } };
        try
        {
            _ = await neutron.SendAsync(HttpMethod.Put, $"/v2.0/ports/{(string)port["id"]!}", body, token, ct);
        }
        catch (NeutronException e) when (e.Status != 400)
        {
            throw e.Unexpected();
        }
    }

    static string GroupName(JsonNode? args)
    {
        if (args is not JsonObject o) throw OpenStackError.BadRequest("Missing parameter dict");
        if (!o.TryGetPropertyValue("name", out var n)) throw OpenStackError.BadRequest("Security group not specified");
        var name = Text(n);
        return string.IsNullOrWhiteSpace(name) ? throw OpenStackError.BadRequest("Security group name cannot be empty") : name;
    }

    static async Task<(string GroupId, List<JsonObject> Ports)> GroupAndPortsAsync(Instance instance, string name, Caller caller, NeutronClient neutron, CancellationToken ct)
    {
        var groupId = await neutron.FindIdAsync("security_groups", "security_group", name, caller.ProjectId, caller.Token, ct).OrUnexpected()
            ?? throw OpenStackError.NotFound($"Security group {name} is not found for project {caller.ProjectId}");
        var ports = await neutron.ListAsync("ports", "device_id=" + instance.Uuid, caller.Token, ct).OrUnexpected();
        if (ports.Count == 0) throw OpenStackError.NotFound($"instance_id {instance.Uuid} could not be found as device id on any ports");
        return (groupId, ports);
    }

    static OpenStackError CannotBeApplied() =>
        OpenStackError.BadRequest("Network requires port_security_enabled and subnet associated in order to apply security groups.");

    // ---- a server create's security_groups

    /// <summary>
    /// A create's <c>security_groups</c> (names or ids) checked as the user, as Nova's _check_requested_secgroups:
    /// each becomes its group's id for the ports the agent makes. Nothing, or only "default", is no list: the
    /// network service gives a new port the project's default group itself.
    /// </summary>
    internal static async Task<IReadOnlyList<string>> RequestedAsync(JsonObject server, Caller caller, NeutronClient neutron, CancellationToken ct)
    {
        if (!server.TryGetPropertyValue("security_groups", out var node)) return [];
        if (node is not JsonArray list) throw NovaBody.Invalid("security_groups", node, "is not of type 'array'");
        var names = new List<string>();
        foreach (var entry in list)
        {
            if (entry is not JsonObject o) throw NovaBody.Invalid("security_groups", entry, "is not of type 'object'");
            o.Only("security_groups", "name");
            if (o.OptionalString("name", allowEmpty: true) is { Length: > 0 } name && !names.Contains(name)) names.Add(name);
        }
        if (names is [] or ["default"]) return [];
        var ids = new List<string>();
        try
        {
            foreach (var name in names)
                ids.Add(await neutron.FindIdAsync("security_groups", "security_group", name, caller.ProjectId, caller.Token, ct)
                    ?? throw OpenStackError.BadRequest($"Unable to find security_group with name or id '{name}'"));
        }
        catch (NeutronException e)
        {
            throw OpenStackError.BadRequest($"Security groups were requested, but the network service could not check them: {e.Message}");
        }
        return ids;
    }

    // ---- Nova's view of Neutron's groups and rules

    static async Task<JsonObject> ViewAsync(JsonObject group, RemoteGroups remotes, CancellationToken ct)
    {
        var rules = new JsonArray();
        foreach (var rule in Ingress(group))
        {
            JsonObject? remote = null;
            if ((string?)rule["remote_group_id"] is { } remoteId && (remote = await remotes.GetAsync(remoteId, ct)) is null) continue;
            rules.Add(RuleView(rule, remote));
        }
        return new JsonObject
        {
            ["id"] = (string?)group["id"], ["description"] = (string?)group["description"], ["name"] = (string?)group["name"],
            ["tenant_id"] = (string?)group["tenant_id"], ["rules"] = rules,
        };
    }

    static IEnumerable<JsonObject> Ingress(JsonObject group) =>
        (group["security_group_rules"] as JsonArray ?? []).OfType<JsonObject>().Where(r => (string?)r["direction"] == "ingress");

    /// <summary>A Neutron rule as Nova shows it; <paramref name="remote"/> is its source group's name and project.</summary>
    static JsonObject RuleView(JsonObject rule, JsonObject? remote)
    {
        var (from, to) = NovaPorts(rule);
        return new JsonObject
        {
            ["id"] = (string?)rule["id"], ["parent_group_id"] = (string?)rule["security_group_id"], ["ip_protocol"] = (string?)rule["protocol"],
            ["from_port"] = from, ["to_port"] = to, ["group"] = remote ?? new JsonObject(),
            ["ip_range"] = remote is null ? new JsonObject { ["cidr"] = CidrOf(rule) } : new JsonObject(),
        };
    }

    /// <summary>A rule's ports as Nova has them: a protocol without a range is 1-65535 for TCP and UDP, -1 otherwise.</summary>
    static (int? From, int? To) NovaPorts(JsonObject rule)
    {
        var (min, max) = ((int?)rule["port_range_min"], (int?)rule["port_range_max"]);
        if ((string?)rule["protocol"] is { } protocol && min is null && max is null)
            return protocol.ToUpperInvariant() is "TCP" or "UDP" ? (1, 65535) : (-1, -1);
        return (min, max);
    }

    static string CidrOf(JsonObject rule) => (string?)rule["remote_ip_prefix"] is { Length: > 0 } prefix ? prefix : "0.0.0.0/0";

    static JsonArray Sorted(List<JsonObject> groups) => new([.. groups
        .OrderBy(g => (string?)g["tenant_id"], StringComparer.Ordinal).ThenBy(g => (string?)g["name"], StringComparer.Ordinal)]);

    /// <summary>Source groups of rules by id: the groups at hand, else asked for as the caller (null when they cannot see it).</summary>
    sealed class RemoteGroups(NeutronClient neutron, string token, IEnumerable<JsonObject> known)
    {
        readonly Dictionary<string, JsonObject?> _owners = known.ToDictionary(g => (string)g["id"]!, g => (JsonObject?)Owner(g));

        public static JsonObject Owner(JsonObject group) => new() { ["name"] = (string?)group["name"], ["tenant_id"] = (string?)group["tenant_id"] };

        public async Task<JsonObject?> GetAsync(string id, CancellationToken ct)
        {
            if (!_owners.TryGetValue(id, out var owner))
                _owners[id] = owner = await neutron.GetAsync($"/v2.0/security-groups/{id}", token, ct).OrUnexpected() is { } found
                    && found["security_group"] is JsonObject g ? Owner(g) : null;
            return owner?.DeepClone().AsObject();
        }
    }

    /// <summary>A rule as Nova builds it from a request (_new_ingress_rule), before it is Neutron's.</summary>
    sealed record IngressRule(string? GroupId, string? Cidr, string? Protocol, int? From, int? To)
    {
        /// <summary>Nova's _rule_exists: the same source, ports and protocol as a rule the group has.</summary>
        public bool SameAs(JsonObject existing)
        {
            var (from, to) = NovaPorts(existing);
            return (string?)existing["remote_group_id"] == GroupId && CidrOf(existing) == Cidr && from == From && to == To
                && (string?)existing["protocol"] == Protocol;
        }

        /// <summary>nova's _make_neutron_security_group_rules_list: always ingress, IPv4 unless the CIDR is IPv6, -1 is no port.</summary>
        public JsonObject ToNeutron(string parentId)
        {
            var rule = new JsonObject
            {
                ["direction"] = "ingress", ["protocol"] = Protocol,
                ["ethertype"] = Cidr is not null && Cidr.Contains(':') ? "IPv6" : "IPv4",
                ["remote_ip_prefix"] = Cidr, ["security_group_id"] = parentId, ["remote_group_id"] = GroupId,
            };
            if (From is { } f && f != -1) rule["port_range_min"] = f;
            if (To is { } t && t != -1) rule["port_range_max"] = t;
            return rule;
        }
    }

    /// <summary>
    /// nova's _new_ingress_rule: a source group or a CIDR, with protocol and ports checked as Nova checks them (a
    /// group rule without ports opens them all); null when a CIDR rule lacks its protocol or ports.
    /// </summary>
    static IngressRule? NewIngressRule(JsonNode? protocolNode, JsonNode? fromNode, JsonNode? toNode, string? groupId, string? cidr)
    {
        var protocol = Text(protocolNode);
        var upper = protocol?.ToUpperInvariant() ?? "";
        if (groupId is not null && fromNode is null && toNode is null && upper is "ICMP" or "TCP" or "UDP")
            (fromNode, toNode) = upper == "ICMP" ? (JsonValue.Create(-1), JsonValue.Create(-1)) : (JsonValue.Create(1), JsonValue.Create(65535));
        if (string.IsNullOrEmpty(protocol) || fromNode is null || toNode is null)
            return groupId is not null ? new IngressRule(groupId, null, null, null, null) : null;
        if (PortNumber(fromNode) is not { } from || PortNumber(toNode) is not { } to)
            throw OpenStackError.BadRequest(upper == "ICMP" ? "Invalid input received: Type and Code must be integers for ICMP protocol type"
                : "Invalid input received: To and From ports must be integers");
        if (upper is not ("TCP" or "UDP" or "ICMP")) throw OpenStackError.BadRequest($"Invalid IP protocol {protocol}.");
        if (upper is "TCP" or "UDP" && from > to)
            throw OpenStackError.BadRequest($"Invalid port range {from}:{to}. Former value cannot be greater than the later");
        if (upper is "TCP" or "UDP" && (from < 1 || to > 65535))
            throw OpenStackError.BadRequest($"Invalid port range {from}:{to}. Valid {upper} ports should be between 1-65535");
        if (upper == "ICMP" && (from is < -1 or > 255 || to is < -1 or > 255))
            throw OpenStackError.BadRequest($"Invalid port range {from}:{to}. For ICMP, the type:code must be valid");
        return new IngressRule(groupId, cidr, protocol, from, to);
    }

    /// <summary>Python's int() of a port: a number (cut to an integer) or a string of digits.</summary>
    static int? PortNumber(JsonNode node) => node.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.Number => (int)Math.Truncate(double.Parse(node.ToJsonString(), CultureInfo.InvariantCulture)),
        System.Text.Json.JsonValueKind.String when int.TryParse(((string)node!).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => n,
        _ => null,
    };

    /// <summary>nova's parse_cidr: none is 0.0.0.0/0; otherwise an address with a prefix length (host bits allowed).</summary>
    static string ParseCidr(string? cidr)
    {
        if (string.IsNullOrEmpty(cidr)) return "0.0.0.0/0";
        cidr = Uri.UnescapeDataString(cidr);
        var parts = cidr.Split('/');
        if (parts.Length != 2 || !IPAddress.TryParse(parts[0], out var address) || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            || length > (address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32) || address.AddressFamily == AddressFamily.InterNetwork && parts[0].Count(c => c == '.') != 3)
            throw OpenStackError.BadRequest($"{cidr} is not a valid IP network.");
        return cidr;
    }

    // ---- helpers

    static async Task<JsonObject> GetAsync(NeutronClient neutron, string id, string token, CancellationToken ct) =>
        (await neutron.GetAsync($"/v2.0/security-groups/{id}", token, ct).OrUnexpected())?["security_group"] as JsonObject ?? throw NotFound(id);

    static OpenStackError NotFound(string id) => OpenStackError.NotFound($"Security group {id} does not exist");

    /// <summary>nova's validate_id: a UUID, with or without its dashes.</summary>
    static string ValidId(string? id) =>
        id is not null && (Guid.TryParseExact(id, "D", out _) || Guid.TryParseExact(id, "N", out _)) ? id : throw OpenStackError.BadRequest("Security group id should be uuid");

    static string? Text(JsonNode? node) => node is null ? null : node.GetValueKind() == System.Text.Json.JsonValueKind.String ? (string)node! : node.ToJsonString();

    /// <summary>The object under <paramref name="key"/>, worded as Nova's _from_body.</summary>
    static async Task<JsonObject> FromBodyAsync(HttpContext http, string key, CancellationToken ct)
    {
        var body = http.Request.ContentLength == 0 ? [] : await JsonBody.ReadObjectAsync(http.Request, ct);
        if (body.Count == 0) throw OpenStackError.BadRequest("The request body can't be empty");
        return body[key] as JsonObject ?? throw OpenStackError.BadRequest($"Missing parameter {key}");
    }

    /// <summary>nova's validate_property: a string of at most 255 characters (Neutron takes any).</summary>
    static string Property(JsonObject body, string name)
    {
        if (body[name] is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.String)
            throw OpenStackError.BadRequest($"{name} is not a string or unicode");
        var text = (string)v!;
        var length = text.EnumerateRunes().Count();
        return length > 255 ? throw OpenStackError.BadRequest($"{name} has {length} characters, more than 255.") : text;
    }
}
