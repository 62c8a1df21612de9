using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Infrastructure;

/// <summary>Where a started test server listens (Kestrel was told port 0 and chose one), and free ports for servers that need one up front.</summary>
internal static class ServerAddress
{
    /// <summary>A loopback port free at the moment of asking (for servers that cannot be told port 0: redis-server, a silo process).</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The first address of <paramref name="app"/>, as "http://127.0.0.1:port/".</summary>
    public static Uri Of(WebApplication app)
        => new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First() + "/");
}
