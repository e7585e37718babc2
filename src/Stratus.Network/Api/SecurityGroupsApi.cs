using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Network.Ipam;
using Stratus.Network.Policy;

namespace Stratus.Network.Api;

/// <summary>
/// <c>/v2.0/security-groups</c> and <c>/v2.0/security-group-rules</c> (security-group,
/// stateful-security-group): a group's view embeds its rules; a new group gets egress to anywhere for
/// IPv4 and IPv6; rules are checked and made canonical as Neutron's securitygroups_db does.
/// </summary>
static class SecurityGroupsApi
{
    public static readonly Collection Groups = new("security_group", "security_groups", Standard.Attributes(
        ("security_group_rules", Access.None), ("stateful", Access.Both)));

    public static readonly Collection Rules = new("security_group_rule", "security_group_rules", new Dictionary<string, Access>(StringComparer.Ordinal)
    {
        ["id"] = Access.None, ["security_group_id"] = Access.Post, ["remote_group_id"] = Access.Post, ["direction"] = Access.Post,
        ["protocol"] = Access.Post, ["port_range_min"] = Access.Post, ["port_range_max"] = Access.Post, ["ethertype"] = Access.Post,
        ["remote_ip_prefix"] = Access.Post, ["tenant_id"] = Access.Post, ["project_id"] = Access.Post, ["description"] = Access.Post,
        ["created_at"] = Access.None, ["updated_at"] = Access.None, ["revision_number"] = Access.None,
    });

    /// <summary>IP_PROTOCOL_NUM_TO_NAME_MAP: the name a number compares as when looking for duplicates.</summary>
    static readonly Dictionary<string, string> ProtocolNames = new(StringComparer.Ordinal)
    {
        ["51"] = "ah", ["33"] = "dccp", ["8"] = "egp", ["50"] = "esp", ["47"] = "gre", ["0"] = "ip", ["1"] = "icmp", ["2"] = "igmp",
        ["4"] = "ipip", ["41"] = "ipv6-encap", ["44"] = "ipv6-frag", ["58"] = "ipv6-icmp", ["59"] = "ipv6-nonxt", ["60"] = "ipv6-opts",
        ["43"] = "ipv6-route", ["89"] = "ospf", ["113"] = "pgm", ["46"] = "rsvp", ["132"] = "sctp", ["6"] = "tcp", ["17"] = "udp",
        ["136"] = "udplite", ["112"] = "vrrp",
    };

    // The list as Neutron prints it in its error (sg_supported_protocols).
    const string SupportedProtocols = "[None, 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', 'ipv6-frag', "
        + "'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp']";

    static readonly string[] Ipv6OnlyProtocols = ["ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route", "41", "44", "58", "59", "60", "43"];

    public static IEndpointRouteBuilder MapSecurityGroups(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v2.0/security-groups", ListGroupsAsync);
        app.MapGet("/v2.0/security-groups/{id}", ShowGroupAsync);
        app.MapPost("/v2.0/security-groups", CreateGroupsAsync);
        app.MapPut("/v2.0/security-groups/{id}", UpdateGroupAsync);
        app.MapDelete("/v2.0/security-groups/{id}", DeleteGroupAsync);
        app.MapGet("/v2.0/security-group-rules", ListRulesAsync);
        app.MapGet("/v2.0/security-group-rules/{id}", ShowRuleAsync);
        app.MapPost("/v2.0/security-group-rules", CreateRulesAsync);
        app.MapDelete("/v2.0/security-group-rules/{id}", DeleteRuleAsync);
        return app;
    }

    // ---- views and lookups

    public static JsonObject RuleView(SecurityGroupRuleRow r) => new()
    {
        ["id"] = r.Id, ["tenant_id"] = r.ProjectId, ["project_id"] = r.ProjectId, ["security_group_id"] = r.SecurityGroupId,
        ["ethertype"] = r.Ethertype, ["direction"] = r.Direction, ["protocol"] = r.Protocol, ["port_range_min"] = r.PortRangeMin,
        ["port_range_max"] = r.PortRangeMax, ["remote_ip_prefix"] = r.RemoteIpPrefix, ["remote_group_id"] = r.RemoteGroupId,
        ["description"] = r.Description, ["created_at"] = Standard.Time(r.CreatedAt), ["updated_at"] = Standard.Time(r.UpdatedAt),
        ["revision_number"] = r.RevisionNumber,
    };

    static JsonObject GroupView(SecurityGroupRow g, IEnumerable<SecurityGroupRuleRow> rules, IReadOnlyDictionary<string, List<string>> tags)
    {
        var v = new JsonObject
        {
            ["id"] = g.Id, ["name"] = g.Name, ["stateful"] = g.Stateful,
            ["security_group_rules"] = new JsonArray([.. rules.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).Select(r => (JsonNode)RuleView(r))]),
        };
        Standard.Write(v, g, tags);
        return v;
    }

    static async Task<List<JsonObject>> GroupViewsAsync(NetworkDb db, IReadOnlyList<SecurityGroupRow> groups, CancellationToken ct)
    {
        var ids = groups.Select(g => g.Id).ToList();
        var rules = (ids.Count > 500
            ? await db.SecurityGroupRules.AsNoTracking().ToListAsync(ct)
            : await db.SecurityGroupRules.AsNoTracking().Where(r => ids.Contains(r.SecurityGroupId)).ToListAsync(ct)).ToLookup(r => r.SecurityGroupId);
        var tags = await Tags.OfAsync(db, ids, ct);
        return groups.Select(g => GroupView(g, rules[g.Id], tags)).ToList();
    }

    static PolicyTarget GroupTarget(SecurityGroupRow g) =>
        NeutronPolicy.Target(GroupView(g, [], new Dictionary<string, List<string>>()));

    /// <summary>A rule's target carries its group's owner, for the sg_owner rule.</summary>
    static PolicyTarget RuleTarget(SecurityGroupRuleRow r, string? groupProject)
    {
        var t = NeutronPolicy.Target(RuleView(r));
        t["security_group:tenant_id"] = groupProject;
        t["security_group:project_id"] = groupProject;
        return t;
    }

    static OpenStackError GroupNotFound(string id) => new(404, "SecurityGroupNotFound", $"Security group {id} does not exist");

    static OpenStackError RuleNotFound(string id) => new(404, "SecurityGroupRuleNotFound", $"Security group rule {id} does not exist");

    // Neutron's API hides what policy refuses to show behind a plain 404.
    static OpenStackError Hidden() => new(404, "HTTPNotFound", "The resource could not be found.");

    /// <summary>
    /// The group as Neutron's plugin finds it for the caller: a project's own (an admin's: any), then
    /// the get_security_group rule.
    /// </summary>
    static async Task<SecurityGroupRow> FindGroupAsync(HttpContext http, NetworkDb db, string id, CancellationToken ct)
    {
        var caller = http.Caller();
        var g = await db.SecurityGroups.FindAsync([id], ct);
        if (g is null || !caller.IsAdmin && g.ProjectId != caller.ProjectId) throw GroupNotFound(id);
        if (!NeutronPolicy.CanSee(http, "security_group", GroupTarget(g))) throw Hidden();
        return g;
    }

    /// <summary>Neutron makes the default group of the project listed (the caller's, or another's for an admin).</summary>
    static async Task EnsureDefaultAsync(HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        var q = http.Request.Query;
        var project = q["project_id"].FirstOrDefault() ?? q["tenant_id"].FirstOrDefault() ?? caller.ProjectId;
        if (project is { Length: > 0 } && (project == caller.ProjectId || caller.IsAdmin))
            await DefaultGroup.EnsureAsync(http.RequestServices.GetRequiredService<NetworkStore>(), project, time.GetUtcNow().UtcDateTime, ct);
    }

    // ---- groups

    static async Task<IResult> ListGroupsAsync(HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        await EnsureDefaultAsync(http, db, time, ct);
        var q = caller.IsAdmin ? db.SecurityGroups.AsNoTracking() : db.SecurityGroups.AsNoTracking().Where(g => g.ProjectId == caller.ProjectId);
        var rows = await q.OrderBy(g => g.CreatedAt).ThenBy(g => g.Id).ToListAsync(ct);
        var views = (await GroupViewsAsync(db, rows, ct))
            .Select(v => (View: v, Target: NeutronPolicy.Target(v)))
            .Where(x => NeutronPolicy.CanSee(http, "security_group", x.Target))
            .Select(x => NeutronPolicy.Visible(http, "security_group", x.View, x.Target));
        return Groups.List(http, views);
    }

    static async Task<IResult> ShowGroupAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var g = await FindGroupAsync(http, db, id, ct);
        var view = (await GroupViewsAsync(db, [g], ct))[0];
        return Groups.Show(http, NeutronPolicy.Visible(http, "security_group", view, NeutronPolicy.Target(view)));
    }

    /// <summary>The name validator of the API (name_not_default): no second group is called default.</summary>
    static string Name(JsonObject body)
    {
        var name = Standard.Text(body, "name") ?? "";
        if (name.Equals("default", StringComparison.OrdinalIgnoreCase))
            throw NeutronErrors.Conflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists.");
        return name;
    }

    static async Task<IResult> CreateGroupsAsync(HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        var (items, bulk) = await Groups.ReadCreateAsync(http.Request, ct);
        var now = time.GetUtcNow().UtcDateTime;
        var created = new List<SecurityGroupRow>();
        foreach (var body in items)
        {
            var name = Name(body);
            var description = Standard.Text(body, "description") ?? "";
            var stateful = Standard.Bool(body, "stateful") ?? true;
            var project = Standard.ProjectOf(body, caller);
            var target = NeutronPolicy.Target(body);
            target["project_id"] = target["tenant_id"] = project;
            NeutronPolicy.Enforce(http, "create", "security_group", body, target);
            if (project == caller.ProjectId || caller.IsAdmin) await DefaultGroup.EnsureAsync(http.RequestServices.GetRequiredService<NetworkStore>(), project, now, ct);
            var g = new SecurityGroupRow
            {
                Id = Guid.NewGuid().ToString(), ProjectId = project, Name = name, Description = description, Stateful = stateful,
                CreatedAt = now, UpdatedAt = now, RevisionNumber = 1,
            };
            db.SecurityGroups.Add(g);
            foreach (var ethertype in new[] { "IPv4", "IPv6" })
                db.SecurityGroupRules.Add(new SecurityGroupRuleRow
                {
                    Id = Guid.NewGuid().ToString(), SecurityGroupId = g.Id, ProjectId = project, Direction = "egress", Ethertype = ethertype,
                    CreatedAt = now, UpdatedAt = now,
                });
            created.Add(g);
        }
        await QuotasApi.EnforceAsync(http, db, "security_group", ct);
        await db.SaveChangesAsync(ct);
        var views = (await GroupViewsAsync(db, created, ct)).Select(v => NeutronPolicy.Visible(http, "security_group", v, NeutronPolicy.Target(v))).ToList();
        return bulk
            ? new JsonResponse(new JsonObject { ["security_groups"] = new JsonArray([.. views]) }, 201)
            : Groups.Show(http, views[0], 201);
    }

    static async Task<IResult> UpdateGroupAsync(string id, HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var body = await Groups.ReadUpdateAsync(http.Request, ct);
        var name = body.ContainsKey("name") ? Name(body) : null;
        var description = body.ContainsKey("description") ? Standard.Text(body, "description") ?? "" : null;
        var stateful = Standard.Bool(body, "stateful");
        var g = await FindGroupAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, "update", "security_group", body, GroupTarget(g));
        if (stateful is { } s && s != g.Stateful && await db.PortSecurityGroups.AnyAsync(b => b.SecurityGroupId == id, ct))
            throw NeutronErrors.Conflict("SecurityGroupInUse", $"Security Group {id} in use.");
        if (g.Name == "default" && body.ContainsKey("name"))
            throw NeutronErrors.Conflict("SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.");
        if (name is not null) g.Name = name;
        if (description is not null) g.Description = description;
        if (stateful is { } st) g.Stateful = st;
        Standard.Touch(g, time.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        var view = (await GroupViewsAsync(db, [g], ct))[0];
        return Groups.Show(http, NeutronPolicy.Visible(http, "security_group", view, NeutronPolicy.Target(view)));
    }

    static async Task<IResult> DeleteGroupAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var caller = http.Caller();
        var g = await FindGroupAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, "delete_security_group", GroupTarget(g));
        if (await db.PortSecurityGroups.AnyAsync(b => b.SecurityGroupId == id, ct))
            throw NeutronErrors.Conflict("SecurityGroupInUse", $"Security Group {id} in use.");
        if (g.Name == "default" && !caller.IsAdmin)
            throw NeutronErrors.Conflict("SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group.");
        // Its own rules go with it, and (as Neutron's foreign key cascades) every rule naming it as the remote group.
        db.SecurityGroupRules.RemoveRange(await db.SecurityGroupRules.Where(r => r.SecurityGroupId == id || r.RemoteGroupId == id).ToListAsync(ct));
        db.DefaultSecurityGroups.RemoveRange(await db.DefaultSecurityGroups.Where(d => d.SecurityGroupId == id).ToListAsync(ct));
        await Tags.RemoveAsync(db, id, ct);
        db.SecurityGroups.Remove(g);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    // ---- rules

    static async Task<IResult> ListRulesAsync(HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        await EnsureDefaultAsync(http, db, time, ct);
        var q = caller.IsAdmin ? db.SecurityGroupRules.AsNoTracking() : db.SecurityGroupRules.AsNoTracking().Where(r => r.ProjectId == caller.ProjectId
            || db.SecurityGroups.Any(g => g.Id == r.SecurityGroupId && g.ProjectId == caller.ProjectId));
        if (http.Request.Query["security_group_id"] is { Count: > 0 } groupIds) q = q.Where(r => groupIds.Contains(r.SecurityGroupId));
        var rows = await q.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).ToListAsync(ct);
        var owners = await GroupOwnersAsync(db, rows, ct);
        var views = rows
            .Select(r => (View: RuleView(r), Target: RuleTarget(r, owners.GetValueOrDefault(r.SecurityGroupId))))
            .Where(x => NeutronPolicy.CanSee(http, "security_group_rule", x.Target))
            .Select(x => NeutronPolicy.Visible(http, "security_group_rule", x.View, x.Target));
        return Rules.List(http, views);
    }

    static async Task<Dictionary<string, string>> GroupOwnersAsync(NetworkDb db, IReadOnlyList<SecurityGroupRuleRow> rules, CancellationToken ct)
    {
        var ids = rules.Select(r => r.SecurityGroupId).Distinct().ToList();
        return await db.SecurityGroups.AsNoTracking().Where(g => ids.Contains(g.Id)).ToDictionaryAsync(g => g.Id, g => g.ProjectId, ct);
    }

    /// <summary>Any rule is found (Neutron looks them up as admin); the get rule decides who may see it.</summary>
    static async Task<(SecurityGroupRuleRow Rule, PolicyTarget Target)> FindRuleAsync(HttpContext http, NetworkDb db, string id, CancellationToken ct)
    {
        var r = await db.SecurityGroupRules.FindAsync([id], ct) ?? throw RuleNotFound(id);
        var owner = (await db.SecurityGroups.AsNoTracking().Where(g => g.Id == r.SecurityGroupId).Select(g => g.ProjectId).ToListAsync(ct)).FirstOrDefault();
        var target = RuleTarget(r, owner);
        if (!NeutronPolicy.CanSee(http, "security_group_rule", target)) throw Hidden();
        return (r, target);
    }

    static async Task<IResult> ShowRuleAsync(string id, HttpContext http, NetworkDb db, CancellationToken ct)
    {
        var (r, target) = await FindRuleAsync(http, db, id, ct);
        return Rules.Show(http, NeutronPolicy.Visible(http, "security_group_rule", RuleView(r), target));
    }

    static async Task<IResult> DeleteRuleAsync(string id, HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var (r, target) = await FindRuleAsync(http, db, id, ct);
        NeutronPolicy.Enforce(http, "delete_security_group_rule", target);
        db.SecurityGroupRules.Remove(r);
        // A rule's change is its group's (Neutron's revises_on_change).
        if (await db.SecurityGroups.FindAsync([r.SecurityGroupId], ct) is { } g) Standard.Touch(g, time.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    static async Task<IResult> CreateRulesAsync(HttpContext http, NetworkDb db, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        var (items, bulk) = await Rules.ReadCreateAsync(http.Request, ct);
        var now = time.GetUtcNow().UtcDateTime;
        var created = new List<SecurityGroupRuleRow>();
        foreach (var body in items)
        {
            var rule = Convert(body, caller, now);
            var target = NeutronPolicy.Target(body);
            target["project_id"] = target["tenant_id"] = rule.ProjectId;
            NeutronPolicy.Enforce(http, "create", "security_group_rule", body, target);
            created.Add(rule);
        }
        if (bulk && created.Select(r => r.SecurityGroupId).Distinct().Count() > 1)
            throw new OpenStackError(400, "SecurityGroupNotSingleGroupRules", "Only allowed to update rules for one security profile at a time");
        if (bulk && created.Select(r => r.ProjectId).Distinct().Count() > 1)
            throw new OpenStackError(400, "SecurityGroupRulesNotSingleTenant", "Multiple tenant_ids in bulk security group rule create not allowed");
        var groups = new Dictionary<string, SecurityGroupRow>(StringComparer.Ordinal);
        foreach (var rule in created)
        {
            Validate(rule);
            if (rule.RemoteGroupId is { } remote) await GroupOfProjectAsync(http, db, remote, rule.ProjectId, ct);
            groups[rule.SecurityGroupId] = await GroupOfProjectAsync(http, db, rule.SecurityGroupId, rule.ProjectId, ct);
        }
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in created)
            if (!keys.Add(Key(rule))) throw NeutronErrors.Conflict("DuplicateSecurityGroupRuleInPost", "Duplicate Security Group Rule in POST.");
        foreach (var groupId in groups.Keys)
            foreach (var existing in await db.SecurityGroupRules.AsNoTracking().Where(r => r.SecurityGroupId == groupId).ToListAsync(ct))
                if (keys.Contains(Key(existing)))
                    throw NeutronErrors.Conflict("SecurityGroupRuleExists", $"Security group rule already exists. Rule id is {existing.Id}.");
        db.SecurityGroupRules.AddRange(created);
        foreach (var g in groups.Values) Standard.Touch(g, now);
        await QuotasApi.EnforceAsync(http, db, ct);
        await db.SaveChangesAsync(ct);
        var owners = groups.ToDictionary(p => p.Key, p => p.Value.ProjectId);
        var views = created.Select(r => NeutronPolicy.Visible(http, "security_group_rule", RuleView(r), RuleTarget(r, owners[r.SecurityGroupId]))).ToList();
        return bulk
            ? new JsonResponse(new JsonObject { ["security_group_rules"] = new JsonArray([.. views]) }, 201)
            : Rules.Show(http, views[0], 201);
    }

    /// <summary>A group the rule's project may use: its own (an admin's: any), as Neutron's _check_security_group.</summary>
    static async Task<SecurityGroupRow> GroupOfProjectAsync(HttpContext http, NetworkDb db, string id, string project, CancellationToken ct)
    {
        var g = await db.SecurityGroups.FindAsync([id], ct);
        if (g is null || !http.Caller().IsAdmin && g.ProjectId != project) throw GroupNotFound(id);
        return g;
    }

    /// <summary>The attribute map's converters and validators: each attribute's own 400.</summary>
    static SecurityGroupRuleRow Convert(JsonObject body, Caller caller, DateTime now)
    {
        var direction = Required(body, "direction");
        if (direction is not ("ingress" or "egress"))
            throw NeutronErrors.InvalidAttribute("direction", $"{direction} is not in ['ingress', 'egress']");
        var groupId = Required(body, "security_group_id");
        if (groupId.Length > 36) throw NeutronErrors.InvalidAttribute("security_group_id", $"'{groupId}' exceeds maximum length of 36");
        return new SecurityGroupRuleRow
        {
            Id = Guid.NewGuid().ToString(), SecurityGroupId = groupId, ProjectId = Standard.ProjectOf(body, caller), Direction = direction,
            Ethertype = body.ContainsKey("ethertype") ? Ethertype(body["ethertype"]) : "IPv4",
            Protocol = Protocol(body["protocol"]), PortRangeMin = Port(body["port_range_min"]), PortRangeMax = Port(body["port_range_max"]),
            RemoteIpPrefix = Prefix(body["remote_ip_prefix"]), RemoteGroupId = Standard.Text(body, "remote_group_id") is { Length: > 0 } rg ? rg : null,
            Description = Standard.Text(body, "description") ?? "", CreatedAt = now, UpdatedAt = now,
        };
    }

    static string Required(JsonObject body, string name) =>
        body.ContainsKey(name) ? Standard.Text(body, name) ?? "" : throw NeutronErrors.BadRequest($"Failed to parse request. Required attribute '{name}' not specified");

    /// <summary>How Python prints the value Neutron's converter was given.</summary>
    static string Raw(JsonNode? n) => n switch
    {
        null => "None",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.True => "True",
        JsonValue v when v.GetValueKind() == JsonValueKind.False => "False",
        _ => n.ToJsonString(),
    };

    static string Ethertype(JsonNode? n) =>
        n is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().ToLowerInvariant() is var e && e is "ipv4" or "ipv6"
            ? e == "ipv4" ? "IPv4" : "IPv6"
            : throw new OpenStackError(400, "SecurityGroupRuleInvalidEtherType", $"Security group rule for ethertype '{Raw(n)}' not supported. Allowed values are ['IPv4', 'IPv6'].");

    static string? Protocol(JsonNode? n)
    {
        if (n is null) return null;
        var invalid = new OpenStackError(400, "SecurityGroupRuleInvalidProtocol",
            $"Security group rule protocol {Raw(n)} not supported. Only protocol values {SupportedProtocols} and integer representations [0 to 255] are supported.");
        if (n is not JsonValue v) throw invalid;
        if (v.GetValueKind() == JsonValueKind.Number)
            return v.TryGetValue<int>(out var i) && i is >= 0 and <= 255 ? i.ToString(CultureInfo.InvariantCulture) : throw invalid;
        if (v.GetValueKind() != JsonValueKind.String) throw invalid;
        var s = v.GetValue<string>();
        if (int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            return number is >= 0 and <= 255 ? s : throw invalid;
        return IpProtocols.Numbers.ContainsKey(s.ToLowerInvariant()) ? s.ToLowerInvariant() : throw invalid;
    }

    static int? Port(JsonNode? n)
    {
        if (n is null) return null;
        int? port = n is JsonValue v
            ? v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i) ? i
                : v.GetValueKind() == JsonValueKind.String && int.TryParse(v.GetValue<string>().Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var j) ? j
                : null
            : null;
        return port is >= 0 and <= 65535 ? port : throw new OpenStackError(400, "SecurityGroupInvalidPortValue", $"Invalid value for port {Raw(n)}");
    }

    /// <summary>An address or CIDR, always with its prefix length (10.0.0.5 is 10.0.0.5/32); host bits are kept, as Neutron keeps them.</summary>
    static string? Prefix(JsonNode? n)
    {
        if (n is null || n is JsonValue e && e.GetValueKind() == JsonValueKind.String && e.GetValue<string>().Length == 0) return null;
        var text = Raw(n);
        var invalid = new OpenStackError(400, "InvalidCIDR", $"Invalid CIDR {text} given as IP prefix.");
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.String) throw invalid;
        var parts = text.Split('/');
        if (parts.Length > 2 || !Ip.TryParse(parts[0], out var address, out var version)) throw invalid;
        var bits = version == 4 ? 32 : 128;
        var length = bits;
        if (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > bits)) throw invalid;
        return $"{Ip.Format(address, version)}/{length}";
    }

    /// <summary>_validate_security_group_rule: the canonical forms, then the checks between attributes.</summary>
    static void Validate(SecurityGroupRuleRow rule)
    {
        if (rule.Ethertype == "IPv6" && rule.Protocol is "icmp" or "icmpv6") rule.Protocol = "ipv6-icmp";
        else if (rule.Ethertype == "IPv6" && rule.Protocol == "1") rule.Protocol = "58";
        // The whole range is no range, which the backends handle better.
        if (rule.PortRangeMin == 1 && rule.PortRangeMax == 65535) rule.PortRangeMin = rule.PortRangeMax = null;
        ValidatePortRange(rule);
        if (rule.RemoteIpPrefix is { } prefix && (prefix.Contains(':') ? "IPv6" : "IPv4") != rule.Ethertype)
            throw new OpenStackError(400, "SecurityGroupRuleParameterConflict", $"Conflicting value ethertype {rule.Ethertype} for CIDR {prefix}");
        if (rule.Ethertype == "IPv4" && rule.Protocol is { } p && Ipv6OnlyProtocols.Contains(p))
            throw new OpenStackError(400, "SecurityGroupEthertypeConflictWithProtocol", $"Invalid ethertype {rule.Ethertype} for protocol {p}.");
        if (rule.RemoteIpPrefix is not null && rule.RemoteGroupId is not null)
            throw new OpenStackError(400, "SecurityGroupMultipleRemoteEntites", "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.");
    }

    static void ValidatePortRange(SecurityGroupRuleRow rule)
    {
        var (min, max) = (rule.PortRangeMin, rule.PortRangeMax);
        if (min is null && max is null) return;
        if (string.IsNullOrEmpty(rule.Protocol))
            throw new OpenStackError(400, "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.");
        var number = IpProtocols.NumberOf(rule.Protocol)!.Value;
        // The others refuse a port range; ICMP's is type and code.
        if (IpProtocols.WithPorts.Contains(number))
        {
            if (min == 0 || max == 0) throw new OpenStackError(400, "SecurityGroupInvalidPortValue", "Invalid value for port 0");
            if (min is null || max is null || min > max)
                throw new OpenStackError(400, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max");
        }
        else if (number is 1 or 58)
        {
            foreach (var (value, attr, field) in new[] { (min, "port_range_min", "type"), (max, "port_range_max", "code") })
                if (value is not null and not (>= 0 and <= 255))
                    throw new OpenStackError(400, "SecurityGroupInvalidIcmpValue", $"Invalid value for ICMP {field} ({attr}) {value}. It must be 0 to 255.");
            if (min is null && max is not null)
                throw new OpenStackError(400, "SecurityGroupMissingIcmpType", $"ICMP code (port-range-max) {max} is provided but ICMP type (port-range-min) is missing.");
        }
        else
            throw new OpenStackError(400, "SecurityGroupInvalidProtocolForPort",
                $"Ports cannot be specified for protocol {number}. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE.");
    }

    /// <summary>What makes two rules the same (Neutron's _rule_to_key): tcp is 6, and anywhere is no prefix.</summary>
    static string Key(SecurityGroupRuleRow r)
    {
        string? protocol = r.Protocol;
        if (protocol is not null)
        {
            if (r.Ethertype == "IPv6" && protocol is "icmp" or "icmpv6") protocol = "ipv6-icmp";
            else if (r.Ethertype == "IPv6" && protocol == "1") protocol = "58";
            protocol = IpProtocols.Numbers.TryGetValue(protocol, out var n) ? $"{protocol},{n}"
                : ProtocolNames.TryGetValue(protocol, out var name) ? $"{name},{protocol}" : $"{protocol},{protocol}";
        }
        var prefix = r.RemoteIpPrefix is "0.0.0.0/0" or "::/0" ? null : r.RemoteIpPrefix;
        return string.Join('_', new[] { r.Direction, r.Ethertype, r.PortRangeMax?.ToString(CultureInfo.InvariantCulture), r.PortRangeMin?.ToString(CultureInfo.InvariantCulture),
            protocol, r.RemoteGroupId, prefix, r.SecurityGroupId }.Select(x => x ?? "+"));
    }
}
