// The stand-alone gateway process: serves /ws/{pool}, health and metrics, and reaches the grains as a cluster
// client of the silos. By default the Silo process co-hosts this same gateway (docs/gateway.md).
using Conduit.Gateway;
using Conduit.Runtime;

var builder = WebApplication.CreateBuilder(args);
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
