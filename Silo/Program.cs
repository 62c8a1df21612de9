// The silo process. With no configuration it runs alone, in memory, co-hosting the gateway, with a demo
// upstream pool "demo" run by this process; in Development a well-known key works (docs/gateway.md).
using Conduit.Gateway;
using Conduit.Grains.Pools;
using Conduit.Grains.Quotas;
using Conduit.Runtime.Hosting;
using Conduit.Silo.Demo;

var builder = WebApplication.CreateBuilder(args);
await using var demoUpstream = await DemoUpstream.StartAsync(builder.Configuration);
builder.UseSilo(silo =>
{
    silo.AddGrains(typeof(PoolOptions).Assembly);
    if (string.Equals(builder.Configuration["Cluster:Provider"], "redis", StringComparison.OrdinalIgnoreCase))
    {
        // Join a cluster through Redis: membership, grain directory and grain state there (docs/cluster.md).
        silo.UseRedisClustering(builder.Configuration["Cluster:RedisConnectionString"] ?? "127.0.0.1:6379")
            .AddRedisGrainStorage("Default");
    }
    else
    {
        silo.AddMemoryGrainStorage("Default");
    }
});
builder.Services.AddConduitPools(builder.Configuration);
builder.Services.AddConduitQuotas(builder.Configuration);
builder.Services.AddConduitGateway(builder.Configuration);
DevelopmentTenant.Configure(builder.Services, builder.Environment);

var app = builder.Build();
if (!StartupValidation.TryValidate(app.Services, Console.Error))
{
    return 1;
}

app.MapConduitGateway();
DevelopmentTenant.Announce(app);
await app.RunAsync();
return 0;
