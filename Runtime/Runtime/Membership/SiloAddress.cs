using System.Globalization;

namespace Conduit.Runtime.Membership;

/// <summary>
/// A silo: its endpoint and its generation (start time in ms). A restart on the same endpoint is a
/// new generation, so it is a new silo for membership and the directory.
/// </summary>
/// <param name="Host">The host or IP address other silos and clients connect to.</param>
/// <param name="Port">The TCP port of the silo's listener (silos and clients).</param>
/// <param name="Generation">Unique per start of a silo on this endpoint.</param>
public sealed record SiloAddress(string Host, int Port, long Generation)
{
    /// <summary>"host:port".</summary>
    public string Endpoint => $"{Host}:{Port}";

    /// <summary>"host:port@generation"; the form used as a key in Redis.</summary>
    public override string ToString() => $"{Host}:{Port}@{Generation.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses the form written by <see cref="ToString"/>.</summary>
    public static SiloAddress Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var at = value.LastIndexOf('@');
        var colon = at > 0 ? value.LastIndexOf(':', at - 1) : -1;
        if (at <= 0 || colon <= 0
            || !int.TryParse(value.AsSpan(colon + 1, at - colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || !long.TryParse(value.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var generation))
        {
            throw new FormatException($"'{value}' is not a silo address: expected 'host:port@generation'.");
        }

        return new SiloAddress(value[..colon], port, generation);
    }
}
