using System.Text.RegularExpressions;
using Conduit.Tests.Gateway;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Dashboard;

/// <summary>The live dashboard, rendered by a real headless Chromium against a real gateway.</summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private GatewayTestHost _host = null!;

    // Pool "up" rotates its connection every 2 requests, so that the page has recycled connections to show.
    public async Task InitializeAsync() => _host = await GatewayTestHost.StartAsync(new() { ["Pools:up:MaxRequestsPerConnection"] = "2" });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Dashboard_InChromium_ShowsPoolsTenantsAndTraffic()
    {
        await using (var client = await _host.ConnectAsync(GatewayTestHost.BigKey))
        {
            for (var i = 1; i <= 5; i++)
            {
                await client.SendAsync($$"""{"jsonrpc":"2.0","id":{{i}},"method":"echo","params":[{{i}}]}""");
                Assert.NotNull(await client.ReceiveAsync());
            }
        }

        var dom = await HeadlessChromium.DumpDomAsync(new Uri(_host.BaseUri, "dashboard"), TimeSpan.FromSeconds(5));

        // The scripts ran and refreshed against the live endpoints, without an error.
        Assert.Matches(new Regex("data-refreshes=\"[1-9]"), dom);
        Assert.Contains("<div id=\"error\"></div>", dom);
        var poolRow = Regex.Match(dom, "<tr data-key=\"up\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.True(poolRow.Success, "no row for pool 'up' in:\n" + dom);
        var cells = Regex.Matches(poolRow.Groups[1].Value, "<td[^>]*>(?:<span[^>]*>)?([^<]*)").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal("up", cells[0]);
        Assert.Equal("request", cells[2]);
        Assert.True(long.Parse(cells[12]) >= 5, $"completed requests shown: {cells[12]}");
        Assert.True(long.Parse(cells[8]) >= 1, $"recycled connections shown: {cells[8]}");
        Assert.Matches(new Regex("<td title=\"rotation [1-9][0-9]*, ttl 0, idle 0, unhealthy 0, sessionEnded 0, sessionReclaimed 0\">"), poolRow.Groups[1].Value);
        Assert.Contains("<tr data-key=\"big\">", dom);
        Assert.Contains("enterprise", dom);

        // The silos: this one, alone and in memory.
        Assert.Contains("<div class=\"sub\" id=\"cluster-summary\">single (cluster default), 1 active of 1</div>", dom);
        var siloRow = Regex.Match(dom, "<tr data-key=\"local\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.True(siloRow.Success, "no row for the silo in:\n" + dom);
        Assert.Contains("<span class=\"badge Active\">Active</span>", siloRow.Groups[1].Value);
    }

    [Fact]
    public async Task DashboardPage_IsSelfContained()
    {
        using var http = _host.CreateHttpClient();
        using var response = await http.GetAsync("dashboard");

        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.DoesNotMatch(new Regex("(src|href)=\"https?://"), html);
        Assert.Contains("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task Dashboard_WithAdminKeyInItsUrl_SendsItOnWithItsOwnRequests()
    {
        const string adminKey = "dashboard-admin-key";
        await using var guarded = await GatewayTestHost.StartAsync(new() { ["Gateway:AdminKeyHashes:0"] = Conduit.Gateway.Authentication.ApiKeyHash.ComputeHex(adminKey) });

        var dom = await HeadlessChromium.DumpDomAsync(new Uri(guarded.BaseUri, "dashboard?admin_key=" + adminKey), TimeSpan.FromSeconds(5));

        // Had the page's fetches gone without the key, /api/usage would have answered 401 and the page shown an error.
        Assert.Matches(new Regex("data-refreshes=\"[1-9]"), dom);
        Assert.Contains("<div id=\"error\"></div>", dom);
        Assert.Contains("<tr data-key=\"up\">", dom);
    }
}
