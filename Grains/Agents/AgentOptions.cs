namespace Conduit.Grains.Agents;

/// <summary>
/// Settings shared by every agent grain, bound from configuration section <c>Agents</c>;
/// <see cref="AgentOptionsValidator"/> checks them at start-up.
/// </summary>
public sealed class AgentOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Agents";

    /// <summary>How long a request id is remembered for de-duplication (DESIGN section 5). Default 300 s.</summary>
    public TimeSpan DedupWindow { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>
    /// Most request ids one agent remembers; past it the oldest answered ids are forgotten first, so a
    /// busy agent's memory stays bounded (without it, 1,000 requests/s would keep 300,000 responses).
    /// Default 1,000.
    /// </summary>
    public int DedupMaxEntries { get; set; } = 1_000;

    /// <summary>
    /// Largest response (UTF-8 bytes) kept for de-duplication; a larger one is still shared with a duplicate
    /// that arrives while it is in flight, but not cached afterwards. Default 64 KiB.
    /// </summary>
    public int DedupMaxResponseBytes { get; set; } = 64 * 1024;
}
