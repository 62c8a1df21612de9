using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Runtime.Hosting;

/// <summary>Configures a silo inside <c>UseSilo</c>, in the spirit of Orleans' ISiloBuilder.</summary>
public interface ISiloBuilder
{
    /// <summary>The host's services.</summary>
    IServiceCollection Services { get; }

    /// <summary>The host's configuration.</summary>
    IConfiguration Configuration { get; }

    /// <summary>Hosts the grain classes of <paramref name="assembly"/>.</summary>
    ISiloBuilder AddGrains(Assembly assembly);

    /// <summary>Adds an in-memory grain store under <paramref name="name"/>.</summary>
    ISiloBuilder AddMemoryGrainStorage(string name);
}
