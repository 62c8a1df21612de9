using System.Buffers;

namespace Conduit.Gateway.Authentication;

/// <summary>Agent ids are "{tenant}/{agent}", so one tenant can never name another tenant's agent.</summary>
internal static class AgentIds
{
    private static readonly SearchValues<char> Allowed = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

    /// <summary>1-64 characters of letters, digits, '.', '_' or '-' (in particular never '/').</summary>
    public static bool IsValidSegment(string? value)
        => value is { Length: > 0 and <= 64 } && !value.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>The agent grain key of a tenant's agent.</summary>
    public static string Scope(string tenant, string agent) => $"{tenant}/{agent}";

    /// <summary>A fresh agent id for a client that did not name one.</summary>
    public static string NewAgent() => Guid.NewGuid().ToString("N");
}
