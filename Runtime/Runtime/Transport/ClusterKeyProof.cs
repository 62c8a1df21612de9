using System.Security.Cryptography;
using System.Text;

namespace Conduit.Runtime.Transport;

/// <summary>
/// The proofs of the cluster key (<see cref="Cluster.ClusterOptions.ClusterKey"/>) in a connection's handshake. The
/// accepting silo sends a fresh nonce (Challenge); the connecting side answers, in its Hello, with a nonce of its own and
/// an HMAC-SHA256 under the key of both nonces and its name; the silo answers, in its HelloAck, with an HMAC of both
/// nonces (the other way round) and its own name. Each side thus proves the key to the other without sending it, and a
/// recorded handshake cannot be replayed on a new connection (its nonces differ). A process proves with its own key
/// and accepts proofs made with it or with any of its accepted keys: that is how a key is rotated without stopping
/// the cluster (docs/cluster.md, "Trust").
/// </summary>
internal sealed class ClusterKeyProof
{
    /// <summary>The shortest key accepted.</summary>
    public const int MinKeyLength = 16;

    private const int NonceBytes = 16;

    private readonly byte[] _key;
    private readonly byte[][] _keys; // its own first, then the accepted ones

    /// <param name="key">The key this process proves with.</param>
    /// <param name="accepted">Keys whose proofs it accepts as well (during a rotation).</param>
    public ClusterKeyProof(string key, IEnumerable<string>? accepted = null)
    {
        _key = Encoding.UTF8.GetBytes(key);
        _keys = [_key, .. (accepted ?? []).Select(Encoding.UTF8.GetBytes)];
    }

    /// <summary>The proof for <paramref name="key"/> and <paramref name="accepted"/>, or null without a key.</summary>
    public static ClusterKeyProof? For(string? key, IReadOnlyList<string> accepted) => key is null ? null : new ClusterKeyProof(key, accepted);

    /// <summary>The problems of a key setting (<paramref name="section"/>: "Cluster" or "ClusterClient"), without showing the keys.</summary>
    public static void Validate(string section, string? key, IReadOnlyList<string> accepted, List<string> errors)
    {
        if (key is { Length: < MinKeyLength })
        {
            errors.Add($"{section}:ClusterKey must be at least {MinKeyLength} characters (was {key.Length}).");
        }

        if (accepted.Count > 0 && key is null)
        {
            errors.Add($"{section}:AcceptedClusterKeys needs {section}:ClusterKey, the key this process proves with (it had {accepted.Count} accepted keys and none of its own).");
        }

        for (var i = 0; i < accepted.Count; i++)
        {
            if (accepted[i] is not { Length: >= MinKeyLength })
            {
                errors.Add($"{section}:AcceptedClusterKeys:{i} must be at least {MinKeyLength} characters (was {accepted[i]?.Length ?? 0}).");
            }
        }
    }

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

    private string Mac(params string[] parts) => Convert.ToBase64String(HMACSHA256.HashData(_key, Message(parts)));

    private static byte[] Message(string[] parts) => Encoding.UTF8.GetBytes(string.Join('\n', parts));

    private bool Matches(string mac, params string[] parts)
    {
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (!Convert.TryFromBase64String(mac, given, out var written) || written != given.Length)
        {
            return false;
        }

        var message = Message(parts);
        var matched = false;
        foreach (var key in _keys)
        {
            matched |= CryptographicOperations.FixedTimeEquals(given, HMACSHA256.HashData(key, message)); // every key tried: no timing says which
        }

        return matched;
    }
}
