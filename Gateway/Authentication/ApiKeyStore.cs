using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Conduit.Gateway.Authentication;

/// <summary>
/// Maps API keys to tenants. Only SHA-256 hashes are kept; a presented key is hashed and compared with every
/// configured hash in constant time, so neither the match nor its position leaks through timing.
/// </summary>
internal sealed class ApiKeyStore
{
    private readonly (byte[] Hash, string Tenant)[] _entries;

    public ApiKeyStore(IOptions<TenantCatalogOptions> options)
    {
        var entries = new List<(byte[], string)>();
        foreach (var (tenant, settings) in options.Value.Tenants)
        {
            foreach (var hex in settings.ApiKeyHashes)
            {
                if (ApiKeyHash.TryParseHex(hex, out var hash))
                {
                    entries.Add((hash, tenant));
                }
            }
        }

        _entries = [.. entries];
    }

    /// <summary>Number of configured keys.</summary>
    public int Count => _entries.Length;

    /// <summary>Returns the tenant of <paramref name="apiKey"/>, or null when the key is unknown.</summary>
    public string? FindTenant(string? apiKey)
    {
        if (string.IsNullOrEmpty(apiKey) || apiKey.Length > 512)
        {
            return null;
        }

        Span<byte> presented = stackalloc byte[32];
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(apiKey), presented);
        string? found = null;
        foreach (var (hash, tenant) in _entries)
        {
            // No early exit: every entry is compared, whatever matched before.
            if (CryptographicOperations.FixedTimeEquals(hash, presented))
            {
                found = tenant;
            }
        }

        return found;
    }
}
