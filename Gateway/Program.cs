// The stand-alone gateway process. Its WebSocket endpoint and cluster client arrive with issues #5 and #3.
var builder = WebApplication.CreateBuilder(args);
if (builder.Configuration.GetSection("ClusterClient").Exists())
{
    // Calls grains on the silos of a cluster (docs/cluster.md).
    Conduit.Runtime.Hosting.ClusterClientServiceCollectionExtensions.AddClusterClient(builder.Services, builder.Configuration.GetSection("ClusterClient"));
}

var app = builder.Build();
app.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
app.Run();
