using System.Security.Cryptography;
using System.Text;

namespace Conduit.Gateway.Authentication;

/// <summary>SHA-256 of API keys, the form in which keys are configured and kept.</summary>
public static class ApiKeyHash
{
    /// <summary>Returns the lowercase hex SHA-256 of the key's UTF-8 bytes (what goes into "Tenants:{name}:ApiKeyHashes").</summary>
    public static string ComputeHex(string apiKey) => Convert.ToHexStringLower(Compute(apiKey));

    /// <summary>Returns the SHA-256 of the key's UTF-8 bytes.</summary>
    public static byte[] Compute(string apiKey) => SHA256.HashData(Encoding.UTF8.GetBytes(apiKey));

    /// <summary>Parses a 64-character hex hash.</summary>
    public static bool TryParseHex(string? hex, out byte[] hash)
    {
        hash = [];
        if (hex is null || hex.Length != 64)
        {
            return false;
        }

        try
        {
            hash = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
