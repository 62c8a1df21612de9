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

    /// <summary>
    /// Most bytes (UTF-8 of the ids and their responses) one agent keeps for de-duplication; past it the oldest answered
    /// ids are forgotten first, as with <see cref="DedupMaxEntries"/>. Without it the count bound alone would let one
    /// agent whose upstream answers with large responses hold 1,000 x 64 KiB. Default 1 MiB; a response larger than this
    /// is not kept either.
    /// </summary>
    public int DedupMaxBytes { get; set; } = 1024 * 1024;
}
