using Microsoft.Extensions.Options;

namespace Conduit.Gateway.Authentication;

/// <summary>
/// Maps API keys to tenants. Only SHA-256 hashes are kept, compared in constant time (<see cref="KeyHashes"/>).
/// </summary>
internal sealed class ApiKeyStore
{
    private readonly KeyHashes _hashes;
    private readonly string[] _tenants;

    public ApiKeyStore(IOptions<TenantCatalogOptions> options)
    {
        var entries = options.Value.Tenants
            .SelectMany(t => t.Value.ApiKeyHashes.Where(hex => ApiKeyHash.TryParseHex(hex, out _)).Select(hex => (Hex: hex, Tenant: t.Key)))
            .ToList();
        _hashes = new KeyHashes(entries.Select(e => e.Hex));
        _tenants = [.. entries.Select(e => e.Tenant)];
    }

    /// <summary>Number of configured keys.</summary>
    public int Count => _tenants.Length;

    /// <summary>Returns the tenant of <paramref name="apiKey"/>, or null when the key is unknown.</summary>
    public string? FindTenant(string? apiKey) => _hashes.IndexOf(apiKey) is var i and >= 0 ? _tenants[i] : null;
}
