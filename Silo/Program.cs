using Conduit.Runtime.Hosting;

// The silo process: hosts the grains in memory, alone, with no configuration; with
// Cluster:Provider=redis it joins a cluster through Redis (see docs/cluster.md).
var builder = WebApplication.CreateBuilder(args);
builder.UseSilo(silo =>
{
    silo.AddGrains(typeof(Conduit.Grains.JsonRpcErrorCodes).Assembly);
    if (string.Equals(builder.Configuration["Cluster:Provider"], "redis", StringComparison.OrdinalIgnoreCase))
    {
        silo.UseRedisClustering(builder.Configuration["Cluster:RedisConnectionString"] ?? "127.0.0.1:6379")
            .AddRedisGrainStorage("Default");
    }
    else
    {
        silo.AddMemoryGrainStorage("Default");
    }
});

var app = builder.Build();
app.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
app.Run();
