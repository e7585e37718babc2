namespace Stratus.Identity.Tokens;

// Placeholder until the Fernet formatter lands (replaced by FernetKeyRepository.cs / TokenPayload.cs).
public sealed class FernetKeyRepository(string directory, int maxActiveKeys = 3)
{
    public string Directory { get; } = directory;
    public int MaxActiveKeys { get; } = maxActiveKeys;
    public void Setup() { }
    public void Rotate() { }
}

public sealed class TokenFormatter(FernetKeyRepository keys)
{
    public FernetKeyRepository Keys { get; } = keys;
    public string Pack(TokenPayload p) => throw new NotSupportedException(p.UserId);
    public TokenPayload? Unpack(string token) => token.Length < 0 ? null : null;
}
