using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Conduit.Gateway.Authentication;

/// <summary>
/// A list of configured key hashes (SHA-256, parsed once). A presented key is hashed and compared with every entry in
/// constant time, so neither the match nor its position leaks through timing. Also reads the key a request presents.
/// </summary>
internal sealed class KeyHashes
{
    private readonly byte[][] _hashes;

    /// <summary>Parses the hex hashes; values that are not 64-character hex are skipped (validators report them).</summary>
    public KeyHashes(IEnumerable<string> hexHashes)
        => _hashes = [.. hexHashes.Select(hex => ApiKeyHash.TryParseHex(hex, out var hash) ? hash : null).OfType<byte[]>()];

    /// <summary>Number of usable hashes.</summary>
    public int Count => _hashes.Length;

    /// <summary>The position of the hash of <paramref name="key"/>, or -1 when it is not one of them.</summary>
    public int IndexOf(string? key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 512)
        {
            return -1;
        }

        Span<byte> presented = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), presented);
        var found = -1;
        for (var i = 0; i < _hashes.Length; i++)
        {
            // No early exit: every entry is compared, whatever matched before.
            if (CryptographicOperations.FixedTimeEquals(_hashes[i], presented))
            {
                found = i;
            }
        }

        return found;
    }

    /// <summary>The key a request presents: <c>Authorization: Bearer</c>, else the query parameter <paramref name="queryParameter"/> (once).</summary>
    public static string? Presented(HttpRequest request, string queryParameter)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        var query = request.Query[queryParameter];
        return query.Count == 1 ? query[0] : null;
    }
}
