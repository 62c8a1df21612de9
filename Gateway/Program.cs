// The stand-alone gateway process. Its WebSocket endpoint and cluster client arrive with issues #5 and #3.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
app.Run();
