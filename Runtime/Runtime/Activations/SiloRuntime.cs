using Conduit.Runtime.Calls;
using Conduit.Runtime.Hosting;
using Conduit.Runtime.Messaging;
using Conduit.Runtime.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Runtime.Activations;

/// <summary>What every activation of a silo shares; one per silo, so an activation holds one reference.</summary>
internal sealed class SiloRuntime
{
    private IMessageRouter? _router;

    public SiloRuntime(
        IServiceProvider services,
        GrainTypeRegistry registry,
        RuntimeClient client,
        GrainActivator activator,
        TimeProvider timeProvider,
        IOptions<SiloOptions> options,
        ILogger<SiloRuntime> logger)
    {
        Services = services;
        Registry = registry;
        Client = client;
        Activator = activator;
        TimeProvider = timeProvider;
        Options = options.Value;
        Logger = logger;
        Catalog = new Catalog(this);
    }

    public IServiceProvider Services { get; }

    public GrainTypeRegistry Registry { get; }

    public RuntimeClient Client { get; }

    public GrainActivator Activator { get; }

    public TimeProvider TimeProvider { get; }

    public SiloOptions Options { get; }

    public ILogger Logger { get; }

    public Catalog Catalog { get; }

    /// <summary>The router; resolved on first use because the router itself depends on the catalog.</summary>
    public IMessageRouter Router => _router ??= Services.GetRequiredService<IMessageRouter>();
}
