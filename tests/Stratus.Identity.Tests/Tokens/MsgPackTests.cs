using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Stratus.Identity.Tokens;

namespace Stratus.Identity.Tests.Tokens;

public class MsgPackTests
{
    /// <summary>A C# value from make-vectors.py's JSON spec, and what decoding its encoding gives back.</summary>
    static (object? Value, object? Decoded) Build(JsonObject spec)
    {
        var (kind, v) = spec.Single();
        switch (kind)
        {
            case "nil": return (null, null);
            case "bool": return ((bool)v!, (bool)v!);
            case "int":
                {
                    var s = (string)v!;
                    if (long.TryParse(s, CultureInfo.InvariantCulture, out var l)) return (l, l);
                    return (ulong.Parse(s, CultureInfo.InvariantCulture), "overflow");
                }
            case "float": return ((double)v!, (double)v!);
            case "float32": return ((float)(double)v!, (double)(float)(double)v!);
            case "str": return ((string)v!, (string)v!);
            case "bin": var b = Convert.FromHexString((string)v!); return (b, b);
            case "str_repeat":
                {
                    var s = string.Concat(Enumerable.Repeat((string)v![0]!, (int)v[1]!));
                    return (s, s);
                }
            case "bin_repeat":
                {
                    var unit = Convert.FromHexString((string)v![0]!);
                    var bytes = Enumerable.Repeat(unit, (int)v[1]!).SelectMany(x => x).ToArray();
                    return (bytes, bytes);
                }
            case "array":
                {
                    var items = v!.AsArray().Select(x => Build(x!.AsObject())).ToArray();
                    return (items.Select(i => i.Value).ToArray(), items.Select(i => i.Decoded).ToArray());
                }
            case "array_repeat":
                {
                    var item = Build(v![0]!.AsObject());
                    var n = (int)v[1]!;
                    return (Enumerable.Repeat(item.Value, n).ToList(), Enumerable.Repeat(item.Decoded, n).ToArray());
                }
            default: throw new InvalidOperationException(kind);
        }
    }

    static void AssertDecodedEqual(object? expected, object? actual)
    {
        switch (expected)
        {
            case object?[] e:
                var a = Assert.IsType<object?[]>(actual);
                Assert.Equal(e.Length, a.Length);
                for (var i = 0; i < e.Length; i++) AssertDecodedEqual(e[i], a[i]);
                break;
            case byte[] e: Assert.Equal(e, Assert.IsType<byte[]>(actual)); break;
            default:
                Assert.Equal(expected, actual);
                if (expected is not null) Assert.IsType(expected.GetType(), actual);
                break;
        }
    }

    public static TheoryData<int> VectorIndexes() => [.. Enumerable.Range(0, KeystoneVectors.Root["msgpack_vectors"]!.AsArray().Count)];

    [Theory]
    [MemberData(nameof(VectorIndexes))]
    public void Encodes_and_decodes_like_python_msgpack(int index)
    {
        var vector = KeystoneVectors.Root["msgpack_vectors"]![index]!.AsObject();
        var (value, decoded) = Build(vector["value"]!.AsObject());

        var encoded = MsgPack.Encode(value);
        Assert.Equal((int)vector["length"]!, encoded.Length);
        Assert.Equal((string)vector["sha256"]!, Convert.ToHexStringLower(SHA256.HashData(encoded)));
        if (vector["hex"] is { } hex) Assert.Equal((string)hex!, Convert.ToHexStringLower(encoded));

        if (decoded is "overflow")
        {
            Assert.Throws<FormatException>(() => MsgPack.Decode(encoded)); // a uint64 beyond long
            return;
        }
        AssertDecodedEqual(decoded, MsgPack.Decode(encoded));
    }

    [Fact]
    public void Python_bytes_are_bin_and_text_is_str()
    {
        // What Keystone's packb((0, (True, b'ab'), 'x')) gives with msgpack 1.x (use_bin_type=True).
        var expected = Convert.FromHexString("9300" + "92c3c4026162" + "a178");
        Assert.Equal(expected, MsgPack.Encode(new object?[] { 0, (true, new byte[] { 0x61, 0x62 }), "x" }));
        var decoded = Assert.IsType<object?[]>(MsgPack.Decode(expected));
        Assert.Equal(0L, decoded[0]);
        Assert.Equal(new byte[] { 0x61, 0x62 }, Assert.IsType<object?[]>(decoded[1])[1]);
        Assert.Equal("x", decoded[2]);
    }

    [Fact]
    public void Encodes_every_integer_width_in_its_smallest_form()
    {
        Assert.Equal("cc80", Convert.ToHexStringLower(MsgPack.Encode((byte)128)));
        Assert.Equal("7f", Convert.ToHexStringLower(MsgPack.Encode((sbyte)127)));
        Assert.Equal("d0df", Convert.ToHexStringLower(MsgPack.Encode((short)-33)));
        Assert.Equal("cd1000", Convert.ToHexStringLower(MsgPack.Encode((ushort)4096)));
        Assert.Equal("ce00010000", Convert.ToHexStringLower(MsgPack.Encode(65536u)));
        Assert.Equal("cfffffffffffffffff", Convert.ToHexStringLower(MsgPack.Encode(ulong.MaxValue)));
        Assert.Equal("d38000000000000000", Convert.ToHexStringLower(MsgPack.Encode(long.MinValue)));
        Assert.Equal("ca3fc00000", Convert.ToHexStringLower(MsgPack.Encode(1.5f)));
    }

    [Fact]
    public void Refuses_to_encode_unsupported_values()
    {
        Assert.Throws<ArgumentException>(() => MsgPack.Encode(new object()));
        Assert.Throws<ArgumentException>(() => MsgPack.Encode(new Dictionary<string, int> { ["a"] = 1 })); // no maps
        Assert.Throws<ArgumentException>(() => MsgPack.Encode(DateTime.UnixEpoch));
        Assert.Throws<ArgumentException>(() => MsgPack.Encode("\ud800")); // lone surrogate
        object?[] deep = [];
        for (var i = 0; i < MsgPack.MaxDepth + 1; i++) deep = [deep];
        Assert.Throws<ArgumentException>(() => MsgPack.Encode(deep));
    }

    [Theory]
    [InlineData("")] // nothing
    [InlineData("c1")] // never used
    [InlineData("80")] // fixmap
    [InlineData("de0000")] // map16
    [InlineData("d40100")] // fixext1
    [InlineData("c70101ff")] // ext8
    [InlineData("0102")] // trailing bytes
    [InlineData("92")] // array missing its items
    [InlineData("dd7fffffff")] // array32 claiming 2^31-1 items
    [InlineData("ddffffffff")] // array32 beyond int
    [InlineData("dbffffffff")] // str32 beyond int
    [InlineData("c6000000ff00")] // bin32 longer than the data
    [InlineData("a3ab")] // truncated str
    [InlineData("a2c328")] // invalid UTF-8
    [InlineData("a1ff")] // invalid UTF-8
    [InlineData("cd01")] // truncated uint16
    [InlineData("cb0000")] // truncated float64
    [InlineData("cf8000000000000000")] // uint64 beyond long
    public void Malformed_input_throws_FormatException(string hex)
    {
        Assert.Throws<FormatException>(() => MsgPack.Decode(Convert.FromHexString(hex)));
    }

    [Fact]
    public void Deep_nesting_throws_FormatException()
    {
        var data = Enumerable.Repeat((byte)0x91, 10_000).Append((byte)0xc0).ToArray();
        Assert.Throws<FormatException>(() => MsgPack.Decode(data));
        var ok = Enumerable.Repeat((byte)0x91, MsgPack.MaxDepth).Append((byte)0xc0).ToArray();
        Assert.IsType<object?[]>(MsgPack.Decode(ok));
    }

    [Fact]
    public void Random_and_mutated_input_only_ever_throws_FormatException()
    {
        var random = new Random(12345);
        var valid = MsgPack.Encode(new object?[] { 2L, new object?[] { true, new byte[16] }, 6L, new object?[] { false, "my-project" }, 1.9e9, new object?[] { new byte[16] } });
        for (var i = 0; i < 20_000; i++)
        {
            byte[] data;
            if (i % 2 == 0)
            {
                data = new byte[random.Next(0, 64)];
                random.NextBytes(data);
            }
            else
            {
                data = (byte[])valid.Clone();
                data[random.Next(data.Length)] = (byte)random.Next(256);
                if (random.Next(4) == 0) data = data[..random.Next(data.Length)];
            }
            try
            {
                MsgPack.Decode(data);
            }
            catch (FormatException)
            {
            }
        }
    }
}
