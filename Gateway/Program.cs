// The stand-alone gateway process: serves /ws/{pool}, health and metrics, and reaches the grains as a cluster
// client of the silos. By default the Silo process co-hosts this same gateway (docs/gateway.md).
using Conduit.Gateway;
using Conduit.Runtime;
using Microsoft.Extensions.Configuration.Memory;

var builder = WebApplication.CreateBuilder(args);
// Defaults beneath every other source (appsettings, environment, command line may change them): ASP.NET Core's own
// Information lines, two per WebSocket and one per aborted connection, would swamp the log of a busy gateway. The
// Silo, which co-hosts the gateway, sets the same in its appsettings.json.
builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
{
    InitialData = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Information", ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning" },
});
// With Cluster:Provider=redis (or a ClusterClient section) the gateway reaches the silos as a cluster client
// (docs/cluster.md); added first so that it is connected before the gateway's own start-up work calls grains.
if (string.Equals(builder.Configuration["Cluster:Provider"], "redis", StringComparison.OrdinalIgnoreCase) || builder.Configuration.GetSection("ClusterClient").Exists())
{
    Conduit.Runtime.Hosting.ClusterClientServiceCollectionExtensions.AddClusterClient(builder.Services, builder.Configuration);
}

builder.Services.AddConduitGateway(builder.Configuration);

var app = builder.Build();
if (!Conduit.Runtime.Hosting.StartupValidation.TryValidate(app.Services, Console.Error))
{
    return 1;
}

if (app.Services.GetService<IGrainFactory>() is null)
{
    app.Logger.LogCritical("The stand-alone gateway needs a cluster client to reach the silos: start it with --Cluster:Provider=redis --Cluster:RedisConnectionString=host:port (docs/cluster.md), or run the Silo, which co-hosts the gateway.");
    return 1;
}

app.MapConduitGateway();
await app.RunAsync();
return 0;
