namespace Stratus.Identity.Api;

/// <summary>Keystone's exception messages that several APIs share (keystone/exception.py).</summary>
public static class Errors
{
    /// <summary>ForbiddenAction: a 403 that names what was refused.</summary>
    public static OpenStackError ForbiddenAction(string action) =>
        OpenStackError.Forbidden($"You are not authorized to perform the requested action: {action}.");

    /// <summary>ValidationError(attribute, target): a 400 for a missing part of a request.</summary>
    public static OpenStackError Missing(string attribute, string target) =>
        OpenStackError.BadRequest($"Expecting to find {attribute} in {target}. The server could not comply with the request since it is " +
            "either malformed or otherwise incorrect. The client is assumed to be in error.");
}
