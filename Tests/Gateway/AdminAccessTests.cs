using System.Net;
using System.Net.Http.Headers;
using Conduit.Gateway;
using Conduit.Gateway.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conduit.Tests.Gateway;

public sealed class AdminAccessTests
{
    private const string AdminKey = "admin-secret-1";

    [Fact]
    public async Task OperatorEndpoints_AdminKeyConfigured_RequireItHealthStaysOpen()
    {
        await using var host = await GatewayTestHost.StartAsync(new() { ["Gateway:AdminKeyHashes:0"] = ApiKeyHash.ComputeHex(AdminKey) });
        using var http = host.CreateHttpClient();

        foreach (var path in new[] { "/dashboard", "/metrics", "/api/usage/tenants", "/api/usage/pools" })
        {
            var anonymous = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.Single().Scheme);

            using var wrong = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "not-the-key") } };
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);

            using var bearer = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", AdminKey) } };
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(bearer)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(path + "?admin_key=" + AdminKey)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await http.GetAsync("/health/websocket")).StatusCode);
    }

    [Theory]
    [InlineData("10.1.2.3", StatusCodes.Status403Forbidden)]
    [InlineData("::ffff:192.168.1.5", StatusCodes.Status403Forbidden)]
    [InlineData("127.0.0.1", StatusCodes.Status200OK)]
    [InlineData("::1", StatusCodes.Status200OK)]
    public async Task CheckAsync_NoAdminKeys_LoopbackOnly(string remote, int expected)
    {
        var context = CreateContext(new GatewayOptions(), IPAddress.Parse(remote));

        var result = await AdminAccess.CheckAsync(new DefaultEndpointFilterInvocationContext(context), _ => ValueTask.FromResult<object?>(Results.Ok()));

        Assert.Equal(expected, await StatusOfAsync(result, context));
    }

    [Fact]
    public async Task CheckAsync_RemoteClientWithAdminKey_Served()
    {
        var context = CreateContext(new GatewayOptions { AdminKeyHashes = [ApiKeyHash.ComputeHex("other"), ApiKeyHash.ComputeHex(AdminKey)] }, IPAddress.Parse("10.1.2.3"));
        context.Request.Headers.Authorization = "Bearer " + AdminKey;

        var result = await AdminAccess.CheckAsync(new DefaultEndpointFilterInvocationContext(context), _ => ValueTask.FromResult<object?>(Results.Ok()));

        Assert.Equal(StatusCodes.Status200OK, await StatusOfAsync(result, context));
    }

    [Fact]
    public void Validator_AdminKeyHashNotHex_Named()
    {
        var result = new GatewayOptionsValidator().Validate(null, new GatewayOptions { AdminKeyHashes = ["plain-key-by-mistake"] });

        Assert.Contains(result.Failures!, f => f.StartsWith("Gateway:AdminKeyHashes:0 must be the 64-character hex SHA-256", StringComparison.Ordinal));
    }

    private static DefaultHttpContext CreateContext(GatewayOptions options, IPAddress remote)
    {
        var services = new ServiceCollection().AddSingleton(Options.Create(options)).AddSingleton<AdminKeys>().AddLogging().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Connection.RemoteIpAddress = remote;
        context.Response.Body = new MemoryStream();
        return context;
    }

    private static async Task<int> StatusOfAsync(object? result, HttpContext context)
    {
        await ((IResult)result!).ExecuteAsync(context);
        return context.Response.StatusCode;
    }
}
