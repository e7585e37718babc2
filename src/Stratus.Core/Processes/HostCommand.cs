using System.Diagnostics;

namespace Stratus.Compute.Virt;

/// <summary>Runs a program on the host with an argument list (never a shell string) and reports its failure in full.</summary>
public static class HostCommand
{
    public static async Task<string> RunAsync(string program, IEnumerable<string> args, CancellationToken ct = default, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var a in args) psi.ArgumentList.Add(a);

        using var process = Start(psi);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        var output = await stdout;
        var errors = await stderr;
        if (process.ExitCode != 0)
            throw new VirtException($"{program} {string.Join(' ', psi.ArgumentList)} failed with exit code {process.ExitCode}: {errors.Trim()}");
        return output;
    }

    static Process Start(ProcessStartInfo psi)
    {
        try
        {
            return Process.Start(psi) ?? throw new VirtException($"could not start {psi.FileName}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new VirtException($"could not start {psi.FileName}: {e.Message} (is its package installed?)", e);
        }
    }
}
