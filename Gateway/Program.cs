// The stand-alone gateway process: serves /ws/{pool}, health and metrics, and reaches the grains as a cluster
// client of the silos. By default the Silo process co-hosts this same gateway (docs/gateway.md).
using Conduit.Gateway;
using Conduit.Runtime;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddConduitGateway(builder.Configuration);

// The cluster client (Cluster:Provider=redis) registers IGrainFactory here once the runtime has one (issue #3).
var app = builder.Build();
if (app.Services.GetService<IGrainFactory>() is null)
{
    app.Logger.LogCritical("The stand-alone gateway needs a cluster client to reach the silos, and this build has none yet. Run the Silo instead: it co-hosts the gateway (dotnet run --project Silo).");
    return 1;
}

app.MapConduitGateway();
await app.RunAsync();
return 0;
