namespace Stratus.Identity.OAuth1;

/// <summary>An OS-OAUTH1 consumer. Its secret is kept as given: requests are signed with it (HMAC).</summary>
public sealed class OAuthConsumer
{
    public required string Id { get; set; }
    public string? Description { get; set; }
    public required string Secret { get; set; }
    public string Extra { get; set; } = "{}";
}

/// <summary>A consumer's request for delegation on a project, until a user authorizes it (Keystone's request_token table).</summary>
public sealed class RequestToken
{
    public required string Id { get; set; }
    public required string Secret { get; set; }
    public required string ConsumerId { get; set; }
    public required string RequestedProjectId { get; set; }
    /// <summary>Set when a user authorizes the request, with the roles it delegates and the verifier the consumer then shows.</summary>
    public string? AuthorizingUserId { get; set; }
    public string? Verifier { get; set; }
    /// <summary>JSON array of role ids.</summary>
    public string? RoleIds { get; set; }
    public DateTime? ExpiresAt { get; set; }
}

/// <summary>What an authorized request token became: the consumer's standing delegation (Keystone's access_token table).</summary>
public sealed class AccessToken
{
    public required string Id { get; set; }
    public required string Secret { get; set; }
    public required string ConsumerId { get; set; }
    public required string AuthorizingUserId { get; set; }
    public required string ProjectId { get; set; }
    /// <summary>JSON array of role ids.</summary>
    public required string RoleIds { get; set; }
    public DateTime? ExpiresAt { get; set; }
}
