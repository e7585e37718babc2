namespace Stratus.Compute.Virt;

/// <summary>Nova's <c>nova.compute.power_state</c>, with the same numbers.</summary>
public enum PowerState
{
    NoState = 0,
    Running = 1,
    Paused = 3,
    Shutdown = 4,
    Crashed = 6,
    Suspended = 7,
}
