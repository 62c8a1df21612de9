using System.Reflection;
using Conduit.Runtime.Metadata;
using Conduit.Runtime.State;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Runtime.Hosting;

internal sealed class SiloBuilder(IServiceCollection services, IConfiguration configuration) : ISiloBuilder
{
    public IServiceCollection Services => services;

    public IConfiguration Configuration => configuration;

    public ISiloBuilder AddGrains(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        services.AddSingleton(new GrainAssembly(assembly));
        return this;
    }

    public ISiloBuilder AddMemoryGrainStorage(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        services.AddKeyedSingleton<IGrainStorage, MemoryGrainStorage>(name);
        return this;
    }
}
