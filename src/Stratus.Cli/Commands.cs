namespace Stratus.Cli;

static class Commands
{
    public static Task<int> RunAsync(string[] args)
    {
        Console.Error.WriteLine($"stratus: unknown command '{string.Join(' ', args)}'");
        return Task.FromResult(2);
    }
}
