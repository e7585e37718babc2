using Stratus.Identity.Api;
using Stratus.Identity.Assignment;
using Stratus.Identity.Catalog;
using Stratus.Identity.Identity;
using Stratus.Identity.OAuth1;
using Stratus.Identity.Resource;
using Stratus.Identity.Trusts;

namespace Stratus.Identity.Tokens;

/// <summary>
/// Issues and validates tokens as Keystone's token provider does: authenticates the methods of an
/// auth request, resolves the scope and its effective roles, packs a Fernet payload; and on
/// validation unpacks it and re-checks that everything it names still exists, is enabled and is not
/// revoked.
/// </summary>
/// All of it reads through <see cref="IdentityStore"/> (plain ADO.NET), not EF Core: these are the paths
/// a busy node runs, and keeping EF Core off them keeps its code out of the process.
public sealed class TokenService(
    IdentityStore store, TokenFormatter formatter, Revocations revocations, TokenCache cache,
    CatalogBuilder catalog, IdentityOptions options)
{
    static readonly OpenStackError AuthFailed = OpenStackError.Unauthorized();

    /// <summary>POST /v3/auth/tokens; <paramref name="request"/> is there for the oauth1 method, signed in its headers.</summary>
    public async Task<TokenInfo> IssueAsync(JsonObject body, CancellationToken ct, HttpRequest? request = null)
    {
        var auth = body.Object("auth");
        var identity = auth.Object("identity");
        var methodsNode = identity.OptionalArray("methods") ?? throw OpenStackError.BadRequest("'methods' is a required property");
        var methods = new List<string>();
        foreach (var m in methodsNode)
        {
            if (m is not JsonValue v || !v.TryGetValue<string>(out var name))
                throw OpenStackError.BadRequest("Invalid input for field 'identity/methods': items must be strings");
            if (!methods.Contains(name)) methods.Add(name);
        }
        if (methods.Count == 0) throw OpenStackError.BadRequest("Invalid input for field 'identity/methods': [] is too short");

        string? userId = null;
        DateTime? expiresAt = null;
        var auditChain = new List<string>();
        string? appCredId = null;
        ApplicationCredential? appCred = null;
        AccessToken? accessToken = null;
        var resultMethods = new List<string>();
        foreach (var method in methods)
        {
            string who;
            switch (method)
            {
                case "password":
                    who = await PasswordAsync(identity.Object("password"), ct);
                    break;
                case "token":
                    {
                        var prior = await TokenMethodAsync(identity.Object("token"), ct);
                        who = prior.UserId;
                        expiresAt = prior.ExpiresAt; // a rescoped token never outlives the one it came from
                        auditChain.Add(prior.AuditIds.Count > 1 ? prior.AuditIds[1] : prior.AuditIds[0]);
                        foreach (var m in prior.Methods) if (!resultMethods.Contains(m)) resultMethods.Add(m);
                        break;
                    }
                case "application_credential":
                    appCred = await ApplicationCredentialAsync(identity.Object("application_credential"), ct);
                    appCredId = appCred.Id;
                    who = appCred.UserId;
                    break;
                case "oauth1":
                    accessToken = await OAuthAsync(request ?? throw AuthFailed, ct);
                    who = accessToken.AuthorizingUserId;
                    break;
                default:
                    throw OpenStackError.Unauthorized($"Attempted to authenticate with an unsupported method: {method}.");
            }
            if (userId is not null && userId != who) throw AuthFailed;
            userId = who;
            if (!resultMethods.Contains(method)) resultMethods.Add(method);
        }

        var user = (userId is null ? null : await store.UserAsync(userId, ct)) ?? throw AuthFailed;
        // An OAuth1 access token is scoped to its project, whatever the request says.
        var (projectId, domainId, system, trust) = accessToken is not null ? (accessToken.ProjectId, null, false, null) : await ScopeAsync(auth, user, appCred, ct);
        // Keystone's mint: only the trustee gets tokens from a trust ("User is not a trustee.").
        if (trust is not null && trust.TrusteeUserId != user.Id) throw OpenStackError.Forbidden();
        var now = DateTime.UtcNow;
        var expiry = now.AddSeconds(options.TokenExpiration);
        if (expiresAt is { } e && e < expiry) expiry = e;
        if (appCred?.ExpiresAt is { } ae && ae < expiry) expiry = ae;

        var payload = new TokenPayload
        {
            UserId = user.Id,
            Methods = resultMethods,
            ProjectId = projectId,
            DomainId = domainId,
            System = system,
            AppCredId = appCredId,
            TrustId = trust?.Id,
            AccessTokenId = accessToken?.Id,
            ExpiresAt = TruncateToSeconds(expiry),
            AuditIds = [NewAuditId(), .. auditChain],
        };
        var info = await MintAsync(payload, ct)
            // A trust whose trustor is disabled or no longer holds the delegated roles: Keystone's Forbidden.
            ?? throw (trust is not null ? OpenStackError.Forbidden()
                : projectId is not null
                ? OpenStackError.Unauthorized($"User {user.Id} has no access to project {projectId}")
                : domainId is not null
                    ? OpenStackError.Unauthorized($"User {user.Id} has no access to domain {domainId}")
                    : AuthFailed);
        if (resultMethods.Contains("password")) await store.TouchLastActiveAsync(user, now.Date, ct);
        if (trust is not null) await ConsumeUseAsync(trust.Id, ct);
        return info;
    }

    /// <summary>
    /// A project-scoped token for a user who proved itself with a credential rather than an auth request
    /// (an EC2 signature), possibly through the trust, application credential or OAuth1 access token the
    /// credential was made with; null when it would not validate (Keystone's mint refuses it).
    /// </summary>
    public Task<TokenInfo?> IssueForCredentialAsync(string userId, string method, string projectId, string? trustId, string? appCredId,
        string? accessTokenId, CancellationToken ct) =>
        MintAsync(new TokenPayload
        {
            UserId = userId,
            Methods = [method],
            ProjectId = projectId,
            TrustId = trustId,
            AppCredId = appCredId,
            AccessTokenId = accessTokenId,
            ExpiresAt = TruncateToSeconds(DateTime.UtcNow.AddSeconds(options.TokenExpiration)),
            AuditIds = [NewAuditId()],
        }, ct);

    /// <summary>Packs the payload into a token and validates it as any token is (Keystone's mint): null when it does not validate.</summary>
    async Task<TokenInfo?> MintAsync(TokenPayload payload, CancellationToken ct)
    {
        var issued = TruncateToSeconds(DateTime.UtcNow);
        var info = await ValidateAsync(formatter.Pack(payload, issued), allowExpired: false, ct);
        if (info is null && revocations.LatestRevocation >= issued)
        {
            // A Fernet token's issued_at has whole seconds, so a token issued in the same second as a
            // revocation (say, right after a password change) looks revoked: issue it in the second after
            // the revocation's. (Compared with the token's second, not the clock after the validation,
            // which a loaded machine may finish seconds later.)
            var after = TruncateToSeconds(revocations.LatestRevocation).AddSeconds(1).AddMilliseconds(5) - DateTime.UtcNow;
            if (after > TimeSpan.Zero) await Task.Delay(after < TimeSpan.FromSeconds(2) ? after : TimeSpan.FromSeconds(2), ct);
            info = await ValidateAsync(formatter.Pack(payload), allowExpired: false, ct);
        }
        return info;
    }

    /// <summary>Keystone's consume_use: a limited trust gives one use less, taken optimistically.</summary>
    async Task ConsumeUseAsync(string trustId, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var trust = await store.TrustAsync(trustId, ct) ?? throw AuthFailed;
            if (trust.RemainingUses is not { } remaining) return;
            if (remaining <= 0) throw OpenStackError.Forbidden($"No remaining uses for trust: {trustId}.");
            if (await store.ConsumeTrustUseAsync(trustId, remaining, ct)) return;
        }
        throw OpenStackError.Conflict($"Unable to consume trust {trustId}: other tokens keep taking its uses; try again.");
    }

    // Keystone's expiry has whole seconds, like issued_at (the Fernet timestamp).
    static DateTime TruncateToSeconds(DateTime t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);

    static string NewAuditId() =>
        Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    async Task<string> PasswordAsync(JsonObject password, CancellationToken ct)
    {
        var u = password.Object("user");
        var secret = u.OptionalString("password", Passwords.MaxLength, allowEmpty: true) ?? throw AuthFailed;
        var user = await FindUserAsync(u, ct) ?? throw AuthFailed;
        if (!await Passwords.VerifyAsync(secret, user.PasswordHash, ct)) throw AuthFailed;
        if (!user.Enabled) throw AuthFailed;
        if (user.PasswordExpiresAt is { } exp && exp < DateTime.UtcNow)
            throw OpenStackError.Unauthorized($"The password is expired and needs to be changed for user: {user.Id}.");
        var domain = await store.DomainAsync(user.DomainId, ct);
        if (domain is null || !domain.Enabled) throw AuthFailed;
        return user.Id;
    }

    async Task<User?> FindUserAsync(JsonObject u, CancellationToken ct)
    {
        if (u.OptionalString("id", 64) is { } id)
            return await store.UserAsync(id, ct);
        var name = u.OptionalString("name") ?? throw OpenStackError.BadRequest("Expecting to find id or name in user.");
        var domainId = await ResolveDomainIdAsync(u.OptionalObject("domain")
            ?? throw OpenStackError.BadRequest("Expecting to find domain in user."), ct);
        return domainId is null ? null : await store.UserByNameAsync(name, domainId, ct);
    }

    async Task<string?> ResolveDomainIdAsync(JsonObject domain, CancellationToken ct)
    {
        if (domain.OptionalString("id", 64) is { } id) return id;
        var name = domain.OptionalString("name") ?? throw OpenStackError.BadRequest("Expecting to find id or name in domain.");
        return await store.DomainIdByNameAsync(name, ct);
    }

    async Task<TokenInfo> TokenMethodAsync(JsonObject token, CancellationToken ct)
    {
        var id = token.OptionalString("id", 1024) ?? throw OpenStackError.BadRequest("'id' is a required property");
        var info = await ValidateAsync(id, allowExpired: false, ct) ?? throw AuthFailed;
        // Keystone's token_authenticate: a delegation cannot be turned into another token.
        if (info.AccessTokenId is not null)
            throw Errors.ForbiddenAction("Using OAuth-scoped token to create another token. Create a new OAuth-scoped token instead");
        if (info.TrustId is not null)
            throw Errors.ForbiddenAction("Using trust-scoped token to create another token. Create a new trust-scoped token instead");
        if (info.IsDelegated) throw Errors.ForbiddenAction("Using a delegated token to create another token is not allowed");
        return info;
    }

    /// <summary>
    /// Keystone's oauth1 auth method: a request signed with the consumer's and the access token's
    /// secrets, for an access token not expired. Anything amiss is a 401 ("Could not validate the access token").
    /// </summary>
    async Task<AccessToken> OAuthAsync(HttpRequest request, CancellationToken ct)
    {
        var oauth = OAuthRequest.From(request);
        var id = oauth.Token ?? throw Errors.Missing("oauth_token", "request");
        var access = await store.AccessTokenAsync(id, ct) ?? throw OpenStackError.NotFound("Access token not found");
        if (access.ExpiresAt is { } e && e < DateTime.UtcNow) throw AuthFailed; // "Access token is expired"
        if (oauth.Problem(needsToken: true) is not null || oauth.ConsumerKey != access.ConsumerId
            || await store.ConsumerAsync(access.ConsumerId, ct) is not { } consumer || !oauth.SignatureMatches(consumer.Secret, access.Secret))
            throw AuthFailed;
        return access;
    }

    async Task<ApplicationCredential> ApplicationCredentialAsync(JsonObject ac, CancellationToken ct)
    {
        var secret = ac.OptionalString("secret", 4096) ?? throw AuthFailed;
        ApplicationCredential? cred;
        if (ac.OptionalString("id", 64) is { } id)
            cred = await store.ApplicationCredentialAsync(id, ct);
        else
        {
            var name = ac.OptionalString("name") ?? throw OpenStackError.BadRequest("Expecting to find id or name in application_credential.");
            var user = await FindUserAsync(ac.OptionalObject("user") ?? throw OpenStackError.BadRequest("Expecting to find user in application_credential."), ct)
                ?? throw AuthFailed;
            cred = await store.ApplicationCredentialByNameAsync(user.Id, name, ct);
        }
        if (cred is null || !await Passwords.VerifyAsync(secret, cred.SecretHash, ct)) throw AuthFailed;
        if (cred.ExpiresAt is { } exp && exp < DateTime.UtcNow) throw AuthFailed;
        return cred;
    }

    async Task<(string? Project, string? Domain, bool System, Trust? Trust)> ScopeAsync(JsonObject auth, User user, ApplicationCredential? appCred, CancellationToken ct)
    {
        if (appCred is not null)
        {
            if (auth.OptionalObject("scope") is not null)
                throw OpenStackError.Unauthorized("Application credentials cannot request a scope.");
            return (appCred.ProjectId, null, appCred.System is not null, null);
        }
        var scopeNode = auth["scope"];
        if (scopeNode is JsonValue sv && sv.TryGetValue<string>(out var s) && s == "unscoped") return (null, null, false, null);
        if (scopeNode is null)
        {
            // Keystone scopes to the default project when the user has one it can use.
            if (user.DefaultProjectId is { } dp && await store.ProjectAsync(dp, ct) is { Enabled: true }
                && (await store.RolesForProjectAsync(user.Id, dp, ct)).Count > 0)
                return (dp, null, false, null);
            return (null, null, false, null);
        }
        if (scopeNode is not JsonObject scope) throw OpenStackError.BadRequest("Invalid input for field 'scope': expected an object.");
        var given = new[] { "project", "domain", "system", "OS-TRUST:trust" }.Count(scope.ContainsKey);
        if (given > 1) throw OpenStackError.BadRequest("Specify either a project, a domain or the system as the scope, not several.");
        if (scope.OptionalObject("project") is { } p)
        {
            Project? project;
            if (p.OptionalString("id", 64) is { } pid)
                project = await store.ProjectAsync(pid, ct);
            else
            {
                var name = p.OptionalString("name") ?? throw OpenStackError.BadRequest("Expecting to find id or name in project.");
                var domainId = await ResolveDomainIdAsync(p.OptionalObject("domain") ?? throw OpenStackError.BadRequest("Expecting to find domain in project."), ct);
                project = await store.ProjectByNameAsync(name, domainId, ct);
            }
            if (project is null) throw OpenStackError.Unauthorized("Could not find the project to scope to.");
            if (!project.Enabled) throw OpenStackError.Unauthorized($"Project {project.Id} is disabled.");
            return (project.Id, null, false, null);
        }
        if (scope.OptionalObject("domain") is { } d)
        {
            var domainId = await ResolveDomainIdAsync(d, ct);
            var domain = domainId is null ? null : await store.DomainAsync(domainId, ct);
            if (domain is null) throw OpenStackError.Unauthorized("Could not find the domain to scope to.");
            if (!domain.Enabled) throw OpenStackError.Unauthorized($"Domain {domain.Id} is disabled.");
            return (null, domain.Id, false, null);
        }
        if (scope.OptionalObject("system") is { } sys)
        {
            if (sys.OptionalBool("all") != true) throw OpenStackError.BadRequest("Only system scope 'all' is supported.");
            return (null, null, true, null);
        }
        if (scope.ContainsKey("OS-TRUST:trust"))
        {
            var t = scope.OptionalObject("OS-TRUST:trust") ?? throw Errors.Missing("trust_id", "trust");
            var trustId = t.OptionalString("id", 64) ?? throw Errors.Missing("trust_id", "trust");
            // Keystone: a trust that is gone, expired or used up is a TrustNotFound, answered as 401.
            var trust = await store.TrustAsync(trustId, ct);
            if (trust is null || !TrustRules.IsLive(trust, DateTime.UtcNow)) throw AuthFailed;
            var project = trust.ProjectId is null ? null : await store.ProjectAsync(trust.ProjectId, ct);
            if (project is null) throw OpenStackError.Unauthorized("Could not find the project to scope to.");
            if (!project.Enabled || await store.DomainAsync(project.DomainId, ct) is not { Enabled: true }) throw AuthFailed;
            return (project.Id, null, false, trust);
        }
        throw OpenStackError.BadRequest("Invalid input for field 'scope'.");
    }

    /// <summary>
    /// Validates a token: null when it is malformed, expired, revoked, or names a user, project or
    /// domain that is gone or disabled, or the user no longer has a role on its scope.
    /// </summary>
    public async Task<TokenInfo?> ValidateAsync(string token, bool allowExpired, CancellationToken ct)
    {
        if (!allowExpired && cache.Get(token) is { } hit) return hit;
        var p = formatter.Unpack(token);
        if (p is null) return null;
        var now = DateTime.UtcNow;
        if (p.ExpiresAt <= now && (!allowExpired || p.ExpiresAt.AddHours(48) <= now)) return null;

        var user = await store.UserAsync(p.UserId, ct);
        if (user is null || !user.Enabled) return null;
        var userDomain = await store.DomainAsync(user.DomainId, ct);
        if (userDomain is null || !userDomain.Enabled) return null;

        // A trust-scoped token: its trust still there and unexpired, held by this trustee, for this
        // project, and its trustor still able to delegate the roles (Keystone re-checks it all).
        Trust? trust = null;
        TrustRules.Delegation? delegation = null;
        if (p.TrustId is not null)
        {
            trust = await store.TrustAsync(p.TrustId, ct);
            if (trust is null || !TrustRules.IsLive(trust, now, needsUse: false) || trust.TrusteeUserId != user.Id || trust.ProjectId != p.ProjectId)
                return null;
            delegation = await TrustRules.DelegationAsync(store, trust, options.MaxRedelegationCount, ct);
            if (delegation is null) return null;
        }

        // An OAuth1 token: its access token still there, for this user and project.
        AccessToken? accessToken = null;
        if (p.AccessTokenId is not null)
        {
            accessToken = await store.AccessTokenAsync(p.AccessTokenId, ct);
            if (accessToken is null || accessToken.AuthorizingUserId != user.Id || accessToken.ProjectId != p.ProjectId) return null;
        }

        Project? project = null;
        Domain? projectDomain = null, domain = null;
        List<Role> roles = [];
        if (p.ProjectId is not null)
        {
            project = await store.ProjectAsync(p.ProjectId, ct);
            if (project is null || !project.Enabled) return null;
            projectDomain = await store.DomainAsync(project.DomainId, ct);
            if (projectDomain is null || !projectDomain.Enabled) return null;
            roles = delegation?.Roles ?? await store.RolesForProjectAsync(user.Id, project.Id, ct);
            if (accessToken is not null)
            {
                // The roles the access token delegates (and those they imply) that the user still holds.
                var delegated = await store.ClosureAsync(JsonNode.Parse(accessToken.RoleIds)!.AsArray().Select(n => n!.GetValue<string>()), ct);
                roles = roles.Where(r => delegated.Contains(r.Id)).ToList();
            }
        }
        else if (p.DomainId is not null)
        {
            domain = await store.DomainAsync(p.DomainId, ct);
            if (domain is null || !domain.Enabled) return null;
            roles = await store.RolesForDomainAsync(user.Id, domain.Id, ct);
        }
        else if (p.System)
            roles = await store.RolesForSystemAsync(user.Id, ct);

        ApplicationCredential? appCred = null;
        if (p.AppCredId is not null)
        {
            appCred = await store.ApplicationCredentialAsync(p.AppCredId, ct);
            if (appCred is null) return null;
            var delegated = (JsonNode.Parse(appCred.RoleIds) as JsonArray ?? []).Select(n => n?.GetValue<string>()).ToHashSet();
            roles = await store.ExpandRolesAsync(roles.Where(r => delegated.Contains(r.Id)).Select(r => r.Id).ToList(), ct);
        }
        if ((p.ProjectId is not null || p.DomainId is not null || p.System) && roles.Count == 0) return null;
        if (await revocations.IsRevokedAsync(p, project?.DomainId, user.DomainId, ct, trust?.TrustorUserId)) return null;

        // An impersonating trust's tokens show the trustor as their user (Keystone's render_token).
        var (shown, shownDomain) = trust is { Impersonation: true } ? (delegation!.Trustor, delegation.TrustorDomain) : (user, userDomain);
        var info = new TokenInfo
        {
            Token = token,
            UserId = shown.Id,
            UserName = shown.Name,
            UserDomainId = shownDomain.Id,
            UserDomainName = shownDomain.Name,
            PasswordExpiresAt = shown.PasswordExpiresAt,
            Methods = p.Methods,
            IssuedAt = p.IssuedAt,
            ExpiresAt = p.ExpiresAt,
            AuditIds = p.AuditIds,
            ProjectId = project?.Id,
            ProjectName = project?.Name,
            ProjectDomainId = projectDomain?.Id,
            ProjectDomainName = projectDomain?.Name,
            DomainId = domain?.Id,
            DomainName = domain?.Name,
            System = p.System,
            AppCredId = appCred?.Id,
            AppCredName = appCred?.Name,
            AppCredRestricted = appCred is { Unrestricted: false },
            TrustId = trust?.Id,
            TrustorUserId = trust?.TrustorUserId,
            TrusteeUserId = trust?.TrusteeUserId,
            TrustImpersonation = trust?.Impersonation ?? false,
            AccessTokenId = accessToken?.Id,
            ConsumerId = accessToken?.ConsumerId,
            Roles = roles.Select(r => (r.Id, r.Name)).ToList(),
        };
        if (!allowExpired) cache.Put(info);
        return info;
    }

    /// <summary>The token body Keystone returns from issue and validation.</summary>
    public async Task<JsonObject> RenderAsync(TokenInfo t, bool includeCatalog, CancellationToken ct)
    {
        var token = new JsonObject
        {
            ["methods"] = new JsonArray(t.Methods.Select(m => (JsonNode?)m).ToArray()),
            ["user"] = new JsonObject
            {
                ["domain"] = new JsonObject { ["id"] = t.UserDomainId, ["name"] = t.UserDomainName },
                ["id"] = t.UserId,
                ["name"] = t.UserName,
                ["password_expires_at"] = t.PasswordExpiresAt is { } pe ? Time.Iso(pe) : null,
            },
            ["audit_ids"] = new JsonArray(t.AuditIds.Select(a => (JsonNode?)a).ToArray()),
            ["expires_at"] = Time.IsoMicro(t.ExpiresAt),
            ["issued_at"] = Time.IsoMicro(t.IssuedAt),
        };
        if (t.TrustId is not null)
            token["OS-TRUST:trust"] = new JsonObject
            {
                ["id"] = t.TrustId,
                ["trustor_user"] = new JsonObject { ["id"] = t.TrustorUserId },
                ["trustee_user"] = new JsonObject { ["id"] = t.TrusteeUserId },
                ["impersonation"] = t.TrustImpersonation,
            };
        if (t.ProjectId is not null)
        {
            token["project"] = new JsonObject
            {
                ["domain"] = new JsonObject { ["id"] = t.ProjectDomainId, ["name"] = t.ProjectDomainName },
                ["id"] = t.ProjectId,
                ["name"] = t.ProjectName,
            };
            // Keystone's trust-scoped tokens say nothing of is_domain.
            if (t.TrustId is null) token["is_domain"] = false;
        }
        else if (t.DomainId is not null)
            token["domain"] = new JsonObject { ["id"] = t.DomainId, ["name"] = t.DomainName };
        else if (t.System)
            token["system"] = new JsonObject { ["all"] = true };
        if (t.IsScoped)
        {
            token["roles"] = new JsonArray(t.Roles.Select(r => (JsonNode?)new JsonObject { ["id"] = r.Id, ["name"] = r.Name }).ToArray());
            // A trust's catalog is the trustor's, as Keystone's.
            if (includeCatalog) token["catalog"] = await catalog.BuildAsync(t.ProjectId, t.TrustorUserId ?? t.UserId, ct);
        }
        if (t.AccessTokenId is not null)
            token["OS-OAUTH1"] = new JsonObject { ["access_token_id"] = t.AccessTokenId, ["consumer_id"] = t.ConsumerId };
        if (t.AppCredId is not null)
            token["application_credential"] = new JsonObject { ["id"] = t.AppCredId, ["name"] = t.AppCredName, ["restricted"] = t.AppCredRestricted };
        return new JsonObject { ["token"] = token };
    }
}
