using System.ComponentModel;
using System.Diagnostics;

namespace Stratus.Core.Processes;

/// <summary>
/// Runs a program on the host with an argument list (never a shell string), as oslo.concurrency's
/// <c>processutils.execute</c> does for OpenStack's agents: qemu-img and QEMU for compute, ip, dnsmasq and
/// nft for networking. A program that is missing or fails is a <see cref="HostCommandException"/> that
/// names the command line, the exit code and the end of what it wrote to stderr.
/// </summary>
public static class HostCommand
{
    // Enough of stderr to say why a command failed; a chatty program's whole log would bury it.
    const int TailLines = 20;
    const int TailChars = 4000;

    /// <summary>Runs the program to its end and returns its standard output; <paramref name="input"/> is its standard input (none when null).</summary>
    public static async Task<string> RunAsync(string program, IEnumerable<string> args, CancellationToken ct = default, string? workingDirectory = null,
        string? input = null)
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
        var commandLine = CommandLine(program, psi.ArgumentList);

        using var process = Start(psi, commandLine);
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            // Written while the output is read: a program that answers as it reads cannot block on a full pipe.
            try
            {
                if (input is not null) await process.StandardInput.WriteAsync(input.AsMemory(), ct);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // It exited without reading everything: its exit code and stderr say why.
            }
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
        {
            var tail = Tail(errors);
            throw new HostCommandException(commandLine, process.ExitCode, tail,
                $"{commandLine} failed with exit code {process.ExitCode}: {(tail.Length == 0 ? "(nothing on stderr)" : tail)}");
        }
        return output;
    }

    static Process Start(ProcessStartInfo psi, string commandLine)
    {
        // Checked first: a missing working directory fails the start with the same error as a missing program.
        if (psi.WorkingDirectory.Length > 0 && !Directory.Exists(psi.WorkingDirectory))
            throw new HostCommandException(commandLine, null, "", $"cannot run {commandLine}: the working directory {psi.WorkingDirectory} does not exist");
        try
        {
            return Process.Start(psi) ?? throw new HostCommandException(commandLine, null, "", $"could not start {commandLine}");
        }
        catch (Win32Exception e)
        {
            const int NoSuchFile = 2;
            throw new HostCommandException(commandLine, null, "", e.NativeErrorCode == NoSuchFile
                ? $"cannot run {commandLine}: {psi.FileName} was not found (is its package installed?)"
                : $"cannot run {commandLine}: {e.Message}", e);
        }
    }

    /// <summary>The command as it would be typed in a shell, so that an operator can run it again by hand.</summary>
    static string CommandLine(string program, IEnumerable<string> args) =>
        string.Join(' ', args.Prepend(program).Select(Quote));

    static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c, StringComparison.Ordinal))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    static string Tail(string text)
    {
        var all = text.Trim();
        var tail = string.Join('\n', all.Split('\n').TakeLast(TailLines));
        if (tail.Length > TailChars) tail = tail[^TailChars..];
        return tail.Length < all.Length ? "…" + tail : tail;
    }
}

/// <summary>A host command could not start or failed; the message says which and why.</summary>
/// <param name="exitCode">The command's exit code; null when it did not start.</param>
/// <param name="standardError">The end of what it wrote to stderr.</param>
public sealed class HostCommandException(string commandLine, int? exitCode, string standardError, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string CommandLine { get; } = commandLine;
    public int? ExitCode { get; } = exitCode;
    public string StandardError { get; } = standardError;
}
