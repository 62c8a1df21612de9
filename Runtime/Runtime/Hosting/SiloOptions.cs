namespace Conduit.Runtime.Hosting;

/// <summary>Settings of a silo (configuration section "Silo").</summary>
public sealed class SiloOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Silo";

    /// <summary>How long a caller waits for a response before <see cref="TimeoutException"/>. Default 30 s; 10 ms to 1 h.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Idle time after which an activation is collected, unless its class says otherwise. Default 15 min; at least 1 s.</summary>
    public TimeSpan CollectionAge { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often idle activations are looked for. Default 1 min; 10 ms to <see cref="CollectionAge"/>.</summary>
    public TimeSpan CollectionQuantum { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a graceful shutdown waits for activations to deactivate. Default 30 s; 1 s to 10 min.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
