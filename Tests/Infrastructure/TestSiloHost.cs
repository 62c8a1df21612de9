using Conduit.Runtime;
using Conduit.Runtime.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Conduit.Tests.Infrastructure;

/// <summary>A real silo on the generic host, in the test process, hosting the test assembly's grains.</summary>
public sealed class TestSiloHost : IAsyncDisposable
{
    private bool _stopped;

    private TestSiloHost(IHost host) => Host = host;

    /// <summary>The host.</summary>
    public IHost Host { get; }

    /// <summary>The silo's services.</summary>
    public IServiceProvider Services => Host.Services;

    /// <summary>The grain factory of the silo.</summary>
    public IGrainFactory GrainFactory => Host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Builds and starts a silo; <paramref name="configure"/> may add services, options and a clock.</summary>
    public static async Task<TestSiloHost> StartAsync(Action<IServiceCollection>? configure = null, Action<ISiloBuilder>? silo = null, IDictionary<string, string?>? settings = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        configure?.Invoke(builder.Services);
        builder.UseSilo(s =>
        {
            s.AddGrains(typeof(TestSiloHost).Assembly).AddMemoryGrainStorage("Default");
            silo?.Invoke(s);
        });
        var host = builder.Build();
        await host.StartAsync();
        return new TestSiloHost(host);
    }

    /// <summary>Stops the host gracefully (deactivating every activation).</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await Host.StopAsync();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Host.Dispose();
    }
}
