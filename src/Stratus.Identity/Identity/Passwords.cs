namespace Stratus.Identity.Identity;

/// <summary>
/// Password hashing as Keystone does by default: bcrypt at cost 12 (passlib's default), so a
/// stolen database costs an attacker what it costs against Keystone. Only the hash is stored.
/// </summary>
public static class Passwords
{
    public const int DefaultRounds = 12;

    /// <summary>Keystone's [identity] max_password_length default.</summary>
    public const int MaxLength = 4096;

    // At most one hash per core at a time: a flood of logins queues here instead of starving token
    // validation of CPU, and a login whose client gave up while waiting is never hashed. Each hash
    // runs on a thread of its own, not a thread-pool thread: a quarter-second of bcrypt on each of
    // the pool's few threads would stall every other request until the pool grows.
    static readonly SemaphoreSlim Gate = new(Environment.ProcessorCount);

    public static string Hash(string password, int rounds = DefaultRounds) =>
        BCrypt.Net.BCrypt.HashPassword(password, rounds);

    public static bool Verify(string password, string? hash)
    {
        if (hash is null) return false;
        try
        {
            return BCrypt.Net.BCrypt.Verify(password, hash);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false;
        }
    }

    public static async Task<bool> VerifyAsync(string password, string? hash, CancellationToken ct)
    {
        if (hash is null) return false;
        await Gate.WaitAsync(ct);
        try
        {
            return await OffPool(() => Verify(password, hash), ct);
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task<string> HashAsync(string password, int rounds, CancellationToken ct)
    {
        await Gate.WaitAsync(ct);
        try
        {
            return await OffPool(() => Hash(password, rounds), ct);
        }
        finally
        {
            Gate.Release();
        }
    }

    static Task<T> OffPool<T>(Func<T> work, CancellationToken ct) =>
        Task.Factory.StartNew(work, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
