using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Infrastructure;

/// <summary>Where a started test server listens (Kestrel was told port 0 and chose one).</summary>
internal static class ServerAddress
{
    /// <summary>The first address of <paramref name="app"/>, as "http://127.0.0.1:port/".</summary>
    public static Uri Of(WebApplication app)
        => new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First() + "/");
}
