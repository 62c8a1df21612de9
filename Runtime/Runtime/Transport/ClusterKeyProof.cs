using System.Security.Cryptography;
using System.Text;

namespace Conduit.Runtime.Transport;

/// <summary>
/// The proofs of the cluster key (<see cref="Cluster.ClusterOptions.ClusterKey"/>) in a connection's handshake. The
/// accepting silo sends a fresh nonce (Challenge); the connecting side answers, in its Hello, with a nonce of its own and
/// an HMAC-SHA256 under the key of both nonces and its name; the silo answers, in its HelloAck, with an HMAC of both
/// nonces (the other way round) and its own name. Each side thus proves the key to the other without sending it, and a
/// recorded handshake cannot be replayed on a new connection (its nonces differ).
/// </summary>
internal sealed class ClusterKeyProof(string key)
{
    /// <summary>The shortest key accepted.</summary>
    public const int MinKeyLength = 16;

    private const int NonceBytes = 16;

    private readonly byte[] _key = Encoding.UTF8.GetBytes(key);

    /// <summary>A fresh random nonce (base64).</summary>
    public static string NewNonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(NonceBytes));

    /// <summary>The connecting side's proof for its Hello: "{its nonce}.{MAC}".</summary>
    public string ForHello(string challenge, string nonce, string name) => nonce + "." + Mac("conduit-hello", challenge, nonce, name);

    /// <summary>Whether <paramref name="proof"/> (from a Hello) proves the key for <paramref name="challenge"/>; gives the connecting side's nonce.</summary>
    public bool VerifyHello(string? proof, string challenge, string name, out string nonce)
    {
        nonce = string.Empty;
        var dot = proof?.IndexOf('.') ?? -1;
        if (dot <= 0)
        {
            return false;
        }

        nonce = proof![..dot];
        return Matches(proof[(dot + 1)..], "conduit-hello", challenge, nonce, name);
    }

    /// <summary>The silo's proof for its HelloAck.</summary>
    public string ForAck(string nonce, string challenge, string name) => Mac("conduit-ack", nonce, challenge, name);

    /// <summary>Whether <paramref name="proof"/> (from a HelloAck) proves the key for this connection's nonces.</summary>
    public bool VerifyAck(string? proof, string nonce, string challenge, string name) => proof is not null && Matches(proof, "conduit-ack", nonce, challenge, name);

    private string Mac(params string[] parts) => Convert.ToBase64String(Compute(parts));

    private byte[] Compute(string[] parts) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(string.Join('\n', parts)));

    private bool Matches(string mac, params string[] parts)
    {
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        return Convert.TryFromBase64String(mac, given, out var written)
            && written == given.Length
            && CryptographicOperations.FixedTimeEquals(given, Compute(parts));
    }
}
