using Microsoft.Extensions.Options;

namespace Conduit.Gateway.Authentication;

/// <summary>The admin key hashes of <see cref="GatewayOptions.AdminKeyHashes"/>, parsed once (see <see cref="AdminAccess"/>).</summary>
internal sealed class AdminKeys(IOptions<GatewayOptions> options)
{
    /// <summary>The hashes.</summary>
    public KeyHashes Hashes { get; } = new(options.Value.AdminKeyHashes);
}
