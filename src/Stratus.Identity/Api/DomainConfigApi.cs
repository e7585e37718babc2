using Stratus.Identity.Resource;

namespace Stratus.Identity.Api;

/// <summary>
/// Domain-specific identity configuration, <c>/v3/domains/{id}/config</c> (keystone/api/domains.py and
/// DomainConfigManager in keystone/resource/core.py): only the [identity] and [ldap] options Keystone
/// whitelists, plus the sensitive ldap password, which is stored but never shown.
/// </summary>
public static class DomainConfigApi
{
    // Keystone's whitelisted options with the defaults Zed reports, in its order.
    static readonly JsonObject Defaults = JsonNode.Parse("""
        {"identity": {"driver": "sql", "list_limit": null},
         "ldap": {"url": "ldap://localhost", "user": null, "suffix": "cn=example,cn=com", "query_scope": "one", "page_size": 0,
          "alias_dereferencing": "default", "debug_level": null, "chase_referrals": null, "user_tree_dn": null, "user_filter": null,
          "user_objectclass": "inetOrgPerson", "user_id_attribute": "cn", "user_name_attribute": "sn", "user_mail_attribute": "mail",
          "user_description_attribute": "description", "user_pass_attribute": "userPassword", "user_enabled_attribute": "enabled",
          "user_enabled_invert": false, "user_enabled_mask": 0, "user_enabled_default": "True", "user_attribute_ignore": ["default_project_id"],
          "user_default_project_id_attribute": null, "user_enabled_emulation": false, "user_enabled_emulation_dn": null,
          "user_enabled_emulation_use_group_config": false, "user_additional_attribute_mapping": [], "group_tree_dn": null,
          "group_filter": null, "group_objectclass": "groupOfNames", "group_id_attribute": "cn", "group_name_attribute": "ou",
          "group_members_are_ids": false, "group_member_attribute": "member", "group_desc_attribute": "description",
          "group_attribute_ignore": [], "group_additional_attribute_mapping": [], "tls_cacertfile": null, "tls_cacertdir": null,
          "use_tls": false, "tls_req_cert": "demand", "use_pool": true, "pool_size": 10, "pool_retry_max": 3, "pool_retry_delay": 0.1,
          "pool_connection_timeout": -1, "pool_connection_lifetime": 600, "use_auth_pool": true, "auth_pool_size": 100,
          "auth_pool_connection_lifetime": 60}}
        """)!.AsObject();

    static readonly Dictionary<string, string[]> Sensitive = new() { ["identity"] = [], ["ldap"] = ["password"] };

    const string SecurityCompliance = "security_compliance";
    static readonly string[] ReadableCompliance = ["password_regex", "password_regex_description"];

    public static RouteGroupBuilder MapDomainConfig(this RouteGroupBuilder domains)
    {
        domains.MapMethods("/config/default", ["GET", "HEAD"], () => ShowDefault(null, null)).RequirePolicy("identity:get_domain_config_default");
        domains.MapMethods("/config/{group}/default", ["GET", "HEAD"], (string group) => ShowDefault(group, null))
            .RequirePolicy("identity:get_domain_config_default");
        domains.MapMethods("/config/{group}/{option}/default", ["GET", "HEAD"], (string group, string option) => ShowDefault(group, option))
            .RequirePolicy("identity:get_domain_config_default");

        domains.MapPut("/{domainId}/config", Create).RequirePolicy("identity:create_domain_config");
        domains.MapMethods("/{domainId}/config", ["GET", "HEAD"], (HttpContext http, IdentityDb db, string domainId, CancellationToken ct) =>
            Show(http, db, domainId, null, null, ct)).RequireToken();
        domains.MapMethods("/{domainId}/config/{group}", ["GET", "HEAD"], (HttpContext http, IdentityDb db, string domainId, string group, CancellationToken ct) =>
            Show(http, db, domainId, group, null, ct)).RequireToken();
        domains.MapMethods("/{domainId}/config/{group}/{option}", ["GET", "HEAD"],
            (HttpContext http, IdentityDb db, string domainId, string group, string option, CancellationToken ct) => Show(http, db, domainId, group, option, ct)).RequireToken();
        domains.MapPatch("/{domainId}/config", (HttpContext http, IdentityDb db, string domainId, CancellationToken ct) => Update(http, db, domainId, null, null, ct))
            .RequirePolicy("identity:update_domain_config");
        domains.MapPatch("/{domainId}/config/{group}", (HttpContext http, IdentityDb db, string domainId, string group, CancellationToken ct) =>
            Update(http, db, domainId, group, null, ct)).RequirePolicy("identity:update_domain_config");
        domains.MapPatch("/{domainId}/config/{group}/{option}", (HttpContext http, IdentityDb db, string domainId, string group, string option, CancellationToken ct) =>
            Update(http, db, domainId, group, option, ct)).RequirePolicy("identity:update_domain_config");
        domains.MapDelete("/{domainId}/config", (IdentityDb db, string domainId, CancellationToken ct) => Delete(db, domainId, null, null, ct))
            .RequirePolicy("identity:delete_domain_config");
        domains.MapDelete("/{domainId}/config/{group}", (IdentityDb db, string domainId, string group, CancellationToken ct) => Delete(db, domainId, group, null, ct))
            .RequirePolicy("identity:delete_domain_config");
        domains.MapDelete("/{domainId}/config/{group}/{option}", (IdentityDb db, string domainId, string group, string option, CancellationToken ct) =>
            Delete(db, domainId, group, option, ct)).RequirePolicy("identity:delete_domain_config");
        return domains;
    }

    /// <summary>Keystone's InvalidDomainConfig: a 403 whose message names the reason.</summary>
    static OpenStackError Invalid(string reason) => OpenStackError.Forbidden($"Invalid domain specific configuration: {reason}.");

    static OpenStackError NotFound(string domainId, string? group, string? option) =>
        OpenStackError.NotFound($"Could not find {What(group, option)} in domain configuration for domain {domainId}.");

    static string What(string? group, string? option) =>
        option is not null ? $"option {option} in group {group}" : group is not null ? $"group {group}" : "any options";

    static bool IsSensitive(string group, string option) => Sensitive.TryGetValue(group, out var s) && s.Contains(option);

    static void CheckGroupAndOption(string? group, string? option)
    {
        if (group is null) return;
        if (!Defaults.ContainsKey(group))
            throw Invalid($"Group {group} is not supported for domain specific configurations");
        if (option is not null && !Defaults[group]!.AsObject().ContainsKey(option) && !IsSensitive(group, option))
            throw Invalid($"Option {option} in group {group} is not supported for domain specific configurations");
    }

    static IResult ShowDefault(string? group, string? option)
    {
        CheckGroupAndOption(group, option);
        if (option is not null && !Defaults[group!]!.AsObject().ContainsKey(option))
            throw Invalid($"Reading the default for option {option} in group {group} is not supported");
        JsonObject config;
        if (option is not null) config = new JsonObject { [option] = Defaults[group!]![option]?.DeepClone() };
        else if (group is not null) config = new JsonObject { [group] = Defaults[group]!.DeepClone() };
        else config = Defaults.DeepClone().AsObject();
        return new JsonResponse(new JsonObject { ["config"] = config });
    }

    /// <summary>Validates a {"group": {"option": value}} document and turns it into rows.</summary>
    static List<DomainConfig> Parse(string domainId, JsonObject config)
    {
        if (config.Count == 0) throw Invalid("No options specified");
        var rows = new List<DomainConfig>();
        foreach (var (group, options) in config)
        {
            if (options is not JsonObject o || o.Count == 0)
                throw Invalid($"The value of group {group} specified in the config should be a dictionary of options");
            foreach (var (option, value) in o)
            {
                CheckGroupAndOption(group, option);
                rows.Add(new DomainConfig
                {
                    DomainId = domainId,
                    Group = group,
                    Option = option,
                    Value = value?.ToJsonString() ?? "null",
                    Sensitive = IsSensitive(group, option),
                });
            }
        }
        return rows;
    }

    /// <summary>The shown configuration: sensitive options never leave the server.</summary>
    static JsonObject Render(IEnumerable<DomainConfig> rows)
    {
        var config = new JsonObject();
        foreach (var row in rows.Where(r => !r.Sensitive))
        {
            if (config[row.Group] is not JsonObject g) config[row.Group] = g = new JsonObject();
            g[row.Option] = JsonNode.Parse(row.Value);
        }
        return config;
    }

    static async Task<IResult> Create(HttpContext http, IdentityDb db, string domainId, CancellationToken ct)
    {
        await Lookup.DomainAsync(db, domainId, ct);
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var rows = Parse(domainId, body["config"] as JsonObject ?? []);
        var existed = await db.DomainConfigs.AnyAsync(c => c.DomainId == domainId, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.DomainConfigs.Where(c => c.DomainId == domainId).ExecuteDeleteAsync(ct);
        db.DomainConfigs.AddRange(rows);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new JsonResponse(new JsonObject { ["config"] = Render(rows) }, existed ? 200 : 201);
    }

    static async Task<IResult> Show(HttpContext http, IdentityDb db, string domainId, string? group, string? option, CancellationToken ct)
    {
        if (group == SecurityCompliance)
        {
            http.Enforce("identity:get_security_compliance_domain_config", new Dictionary<string, string?> { ["target.domain.id"] = domainId });
            return ShowSecurityCompliance(domainId, option);
        }
        http.Enforce("identity:get_domain_config", new Dictionary<string, string?> { ["target.domain.id"] = domainId });
        CheckGroupAndOption(group, option);
        var rows = await db.DomainConfigs.AsNoTracking()
            .Where(c => c.DomainId == domainId && !c.Sensitive && (group == null || c.Group == group) && (option == null || c.Option == option))
            .ToListAsync(ct);
        if (rows.Count == 0) throw NotFound(domainId, group, option);
        var config = Render(Ordered(rows));
        return new JsonResponse(new JsonObject { ["config"] = option is null ? config : config[group!]!.DeepClone() });
    }

    /// <summary>Stratus keeps no per-domain password rules: the readable [security_compliance] options are unset, as in a default Keystone.</summary>
    static IResult ShowSecurityCompliance(string domainId, string? option)
    {
        if (domainId != Domain.DefaultId)
            throw Invalid("Reading security compliance information for any domain other than the default domain is not allowed or supported.");
        if (option is not null && !ReadableCompliance.Contains(option))
            throw Invalid("Reading security compliance values other than password_regex and password_regex_description is not allowed.");
        var values = new JsonObject();
        foreach (var o in ReadableCompliance.Where(o => option is null || o == option)) values[o] = null;
        return new JsonResponse(new JsonObject { ["config"] = option is null ? new JsonObject { [SecurityCompliance] = values } : values });
    }

    /// <summary>Options in Keystone's whitelist order, so a shown configuration reads like the defaults.</summary>
    static IEnumerable<DomainConfig> Ordered(IEnumerable<DomainConfig> rows)
    {
        int Rank(DomainConfig r) =>
            Defaults[r.Group] is JsonObject g && g.Select((kv, i) => (kv.Key, i)).FirstOrDefault(x => x.Key == r.Option) is { Key: not null } hit ? hit.i : int.MaxValue;
        return rows.OrderBy(r => r.Group == "identity" ? 0 : 1).ThenBy(Rank);
    }

    static async Task<IResult> Update(HttpContext http, IdentityDb db, string domainId, string? group, string? option, CancellationToken ct)
    {
        await Lookup.DomainAsync(db, domainId, ct);
        var body = await JsonBody.ReadObjectAsync(http.Request, ct);
        var config = body["config"] as JsonObject ?? [];
        // With an option in the URL the body is just {"option": value}.
        if (option is not null) config = new JsonObject { [group!] = config.DeepClone() };
        var rows = Parse(domainId, config);
        CheckGroupAndOption(group, option);
        if (group is not null)
        {
            if (config.Count != 1 || (option is not null && config[group] is JsonObject g && g.Count != 1))
                throw Invalid(option is not null
                    ? $"Trying to update option {option} in group {group}, so that, and only that, option must be specified  in the config"
                    : $"Trying to update group {group}, so that, and only that, group must be specified in the config");
            if (!config.ContainsKey(group))
                throw Invalid($"request to update group {group}, but config provided contains group {config.First().Key} instead");
            if (option is not null && !config[group]!.AsObject().ContainsKey(option))
                throw Invalid($"Trying to update option {option} in group {group}, but config provided contains option {config[group]!.AsObject().First().Key} instead");
            if (!await db.DomainConfigs.AnyAsync(c => c.DomainId == domainId && c.Group == group && (option == null || c.Option == option), ct))
                throw NotFound(domainId, group, option);
        }
        var current = await db.DomainConfigs.Where(c => c.DomainId == domainId).ToListAsync(ct);
        foreach (var row in rows)
        {
            var existing = current.FirstOrDefault(c => c.Group == row.Group && c.Option == row.Option);
            if (existing is null) { db.DomainConfigs.Add(row); current.Add(row); }
            else existing.Value = row.Value;
        }
        await db.SaveChangesAsync(ct);
        if (current.All(c => c.Sensitive)) throw NotFound(domainId, null, null);
        return new JsonResponse(new JsonObject { ["config"] = Render(Ordered(current)) });
    }

    static async Task<IResult> Delete(IdentityDb db, string domainId, string? group, string? option, CancellationToken ct)
    {
        await Lookup.DomainAsync(db, domainId, ct);
        CheckGroupAndOption(group, option);
        var rows = db.DomainConfigs.Where(c => c.DomainId == domainId && (group == null || c.Group == group) && (option == null || c.Option == option));
        // A partial delete must name something that exists; deleting a whole (even empty) configuration always succeeds.
        if (group is not null && !await rows.AnyAsync(ct)) throw NotFound(domainId, group, option);
        await rows.ExecuteDeleteAsync(ct);
        return Results.NoContent();
    }
}
