using Stratus.Core.Processes;

namespace Stratus.Core.Tests.Processes;

public sealed class HostCommandTests
{
    [Fact]
    public async Task A_command_returns_its_output_and_gets_its_arguments_unsplit()
    {
        var output = await HostCommand.RunAsync("/bin/sh", ["-c", "printf '%s|' \"$@\"", "sh", "two words", "it's"]);

        Assert.Equal("two words|it's|", output);
    }

    [Fact]
    public async Task A_failing_command_names_its_command_line_exit_code_and_stderr()
    {
        var e = await Assert.ThrowsAsync<HostCommandException>(() =>
            HostCommand.RunAsync("/bin/sh", ["-c", "echo progress; echo 'disk full' >&2; exit 3"]));

        Assert.Equal(3, e.ExitCode);
        Assert.Equal("disk full", e.StandardError);
        Assert.Equal("/bin/sh -c 'echo progress; echo '\\''disk full'\\'' >&2; exit 3'", e.CommandLine);
        Assert.Equal($"{e.CommandLine} failed with exit code 3: disk full", e.Message);
    }

    [Fact]
    public async Task A_long_stderr_is_cut_to_its_last_lines()
    {
        var e = await Assert.ThrowsAsync<HostCommandException>(() =>
            HostCommand.RunAsync("/bin/sh", ["-c", "i=1; while [ $i -le 100 ]; do echo line $i >&2; i=$((i+1)); done; exit 1"]));

        var lines = e.StandardError.Split('\n');
        Assert.Equal(20, lines.Length);
        Assert.Equal("…line 81", lines[0]);
        Assert.Equal("line 100", lines[^1]);
    }

    [Fact]
    public async Task A_silent_failure_says_stderr_was_empty()
    {
        var e = await Assert.ThrowsAsync<HostCommandException>(() => HostCommand.RunAsync("/bin/false", []));

        Assert.Equal(1, e.ExitCode);
        Assert.Equal("/bin/false failed with exit code 1: (nothing on stderr)", e.Message);
    }

    [Fact]
    public async Task A_missing_program_is_named_with_a_hint_at_its_package()
    {
        var e = await Assert.ThrowsAsync<HostCommandException>(() => HostCommand.RunAsync("stratus-no-such-program", ["link", "show"]));

        Assert.Null(e.ExitCode);
        Assert.Equal("cannot run stratus-no-such-program link show: stratus-no-such-program was not found (is its package installed?)", e.Message);
    }

    [Fact]
    public async Task A_missing_working_directory_is_not_taken_for_a_missing_program()
    {
        var e = await Assert.ThrowsAsync<HostCommandException>(() =>
            HostCommand.RunAsync("/bin/true", [], workingDirectory: "/nonexistent/stratus"));

        Assert.Equal("cannot run /bin/true: the working directory /nonexistent/stratus does not exist", e.Message);
    }
}
