using System.Text.Json;
using Conduit.Runtime;
using Conduit.Runtime.Calls;
using Conduit.Tests.Infrastructure;
using Conduit.Tests.Runtime.Grains;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Runtime;

public sealed class GrainReferenceJsonConverterTests
{
    private sealed record Envelope(ICounterGrain Grain, IProbeObserver? Observer);

    [Fact]
    public async Task References_RoundTripAsGrainIds_AndStayCallable()
    {
        await using var silo = await TestSiloHost.StartAsync();
        var client = silo.Services.GetRequiredService<RuntimeClient>();
        var options = new JsonSerializerOptions { Converters = { new GrainReferenceJsonConverter(client) } };
        var grain = silo.GrainFactory.GetGrain<ICounterGrain>("json/key");
        await grain.Increment();

        var json = JsonSerializer.Serialize(new Envelope(grain, null), options);
        var back = JsonSerializer.Deserialize<Envelope>(json, options)!;

        Assert.Contains("\"counter/json/key\"", json);
        Assert.Equal(grain, back.Grain);
        Assert.Equal(2, await back.Grain.Increment());
    }

    [Fact]
    public async Task Read_NotAGrainId_FailsWithJsonException()
    {
        await using var silo = await TestSiloHost.StartAsync();
        var options = new JsonSerializerOptions { Converters = { new GrainReferenceJsonConverter(silo.Services.GetRequiredService<RuntimeClient>()) } };

        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Envelope>("{\"Grain\":\"no-slash\"}", options));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Envelope>("{\"Grain\":42}", options));
    }
}
