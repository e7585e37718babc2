namespace Stratus.Identity.Identity;

public sealed class User
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public required string DomainId { get; set; }
    public bool Enabled { get; set; } = true;
    public string? DefaultProjectId { get; set; }
    public string? Description { get; set; }
    public string? Email { get; set; }
    /// <summary>A bcrypt hash (Keystone's default algorithm and cost); never the password.</summary>
    public string? PasswordHash { get; set; }
    public DateTime? PasswordCreatedAt { get; set; }
    public DateTime? PasswordExpiresAt { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public DateTime? LastActiveAt { get; set; }
    public string Extra { get; set; } = "{}";
    public string Options { get; set; } = "{}";
}

public sealed class Group
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public required string DomainId { get; set; }
    public string? Description { get; set; } = "";
    public string Extra { get; set; } = "{}";
}

public sealed class GroupMembership
{
    public required string UserId { get; set; }
    public required string GroupId { get; set; }
}

/// <summary>An EC2-style (or other) credential; the blob is stored as the client sent it.</summary>
public sealed class Credential
{
    public required string Id { get; set; }
    public required string UserId { get; set; }
    public string? ProjectId { get; set; }
    public required string Type { get; set; }
    public required string Blob { get; set; }
    public string Extra { get; set; } = "{}";
}

public sealed class ApplicationCredential
{
    public required string Id { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public required string UserId { get; set; }
    public string? ProjectId { get; set; }
    public string? System { get; set; }
    public required string SecretHash { get; set; }
    public DateTime? ExpiresAt { get; set; }
    public bool Unrestricted { get; set; }
    /// <summary>JSON array of role ids delegated to the credential.</summary>
    public string RoleIds { get; set; } = "[]";
    /// <summary>JSON array of access rule ids.</summary>
    public string AccessRuleIds { get; set; } = "[]";
}

public sealed class AccessRule
{
    public required string Id { get; set; }
    public required string UserId { get; set; }
    public required string Service { get; set; }
    public required string Path { get; set; }
    public required string Method { get; set; }
}
