using Conduit.Runtime.Hosting;

// The silo process: hosts the grains in memory, alone, with no configuration.
var builder = WebApplication.CreateBuilder(args);
builder.UseSilo(silo => silo
    .AddGrains(typeof(Conduit.Grains.JsonRpcErrorCodes).Assembly)
    .AddMemoryGrainStorage("Default"));

var app = builder.Build();
app.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
app.Run();
