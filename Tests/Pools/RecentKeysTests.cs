using Conduit.Grains.Pools;

namespace Conduit.Tests.Pools;

public sealed class RecentKeysTests
{
    [Fact]
    public void Add_BeyondCapacity_ForgetsTheOldest_AndAKeyAddedTwiceCountsOnce()
    {
        var keys = new RecentKeys(2);
        keys.Add("a");
        keys.Add("b");
        keys.Add("b");
        Assert.True(keys.Contains("a"));

        keys.Add("c");

        Assert.False(keys.Contains("a"));
        Assert.True(keys.Contains("b"));
        Assert.True(keys.Contains("c"));
    }
}
