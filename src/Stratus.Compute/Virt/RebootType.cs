namespace Stratus.Compute.Virt;

/// <summary>Soft asks the guest to restart and falls back to hard; hard resets the machine.</summary>
public enum RebootType
{
    Soft,
    Hard,
}
