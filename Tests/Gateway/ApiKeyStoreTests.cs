using Conduit.Gateway;
using Conduit.Gateway.Authentication;
using Microsoft.Extensions.Options;

namespace Conduit.Tests.Gateway;

public sealed class ApiKeyStoreTests
{
    private static ApiKeyStore Store(params (string Tenant, string Key)[] keys)
    {
        var options = new TenantCatalogOptions();
        foreach (var (tenant, key) in keys)
        {
            if (!options.Tenants.TryGetValue(tenant, out var t))
            {
                options.Tenants[tenant] = t = new TenantOptions();
            }

            t.ApiKeyHashes.Add(ApiKeyHash.ComputeHex(key));
        }

        return new ApiKeyStore(Options.Create(options));
    }

    [Fact]
    public void FindTenant_KnownKeys_ReturnTheirTenant()
    {
        var store = Store(("acme", "k-acme-1"), ("acme", "k-acme-2"), ("globex", "k-globex"));

        Assert.Equal("acme", store.FindTenant("k-acme-1"));
        Assert.Equal("acme", store.FindTenant("k-acme-2"));
        Assert.Equal("globex", store.FindTenant("k-globex"));
        Assert.Equal(3, store.Count);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("k-acme")]
    [InlineData("K-ACME-1")]
    public void FindTenant_UnknownKey_Null(string? key)
    {
        Assert.Null(Store(("acme", "k-acme-1")).FindTenant(key));
    }

    [Fact]
    public void FindTenant_HashGiven_DoesNotAuthenticate()
    {
        // The configured hash itself is not a key.
        Assert.Null(Store(("acme", "secret")).FindTenant(ApiKeyHash.ComputeHex("secret")));
    }

    [Fact]
    public void ComputeHex_KnownVector_MatchesSha256()
    {
        Assert.Equal("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", ApiKeyHash.ComputeHex("hello"));
    }

    [Fact]
    public void Validate_BadHashAndTenantName_ReportsEach()
    {
        var options = new TenantCatalogOptions();
        options.Tenants["ok"] = new TenantOptions { ApiKeyHashes = ["xyz"] };
        options.Tenants["bad/name"] = new TenantOptions();

        var result = new TenantCatalogOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("Tenants:ok:ApiKeyHashes:0", StringComparison.Ordinal) && f.Contains("'xyz'", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Tenants:bad/name", StringComparison.Ordinal));
    }
}
