namespace Stratus.Compute.Virt;

/// <summary>A driver call that failed; the message says why in the operator's words.</summary>
public class VirtException(string message, Exception? inner = null) : Exception(message, inner);

public sealed class InstanceNotFoundException(Guid uuid)
    : VirtException($"Instance {uuid} could not be found.");

public sealed class InstanceExistsException(Guid uuid)
    : VirtException($"Instance {uuid} already exists.");

/// <summary>The call does not apply to the instance's power state (pausing a stopped instance).</summary>
public sealed class InstanceInvalidStateException(Guid uuid, PowerState state, string action)
    : VirtException($"Cannot {action} instance {uuid} while it is {state.ToString().ToLowerInvariant()}.");
