using Conduit.Runtime;
using Conduit.Runtime.Cluster;
using Conduit.Runtime.Membership;

namespace Conduit.Tests.Cluster;

public sealed class HashPlacementTests
{
    private static readonly List<SiloAddress> Silos = Enumerable.Range(0, 4).Select(i => new SiloAddress("127.0.0.1", 11111 + i, 1000 + i)).ToList();

    [Fact]
    public void Choose_SameInputsAnyOrder_SameSilo()
    {
        var grains = Enumerable.Range(0, 200).Select(i => new GrainId("g", i.ToString())).ToList();
        var reversed = Silos.AsEnumerable().Reverse().ToList();

        Assert.All(grains, g => Assert.Equal(HashPlacement.Choose(g, Silos), HashPlacement.Choose(g, reversed)));
    }

    [Fact]
    public void Choose_ManyGrains_SpreadsOverAllSilos()
    {
        var counts = Enumerable.Range(0, 4000).GroupBy(i => HashPlacement.Choose(new GrainId("g", i.ToString()), Silos)).ToDictionary(g => g.Key!, g => g.Count());

        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 800, 1200));
    }

    [Fact]
    public void Choose_SiloLeaves_OnlyItsGrainsMove()
    {
        var grains = Enumerable.Range(0, 2000).Select(i => new GrainId("g", i.ToString())).ToList();
        var without = Silos.Where(s => s != Silos[2]).ToList();

        Assert.All(grains, g =>
        {
            var before = HashPlacement.Choose(g, Silos);
            if (before != Silos[2])
            {
                Assert.Equal(before, HashPlacement.Choose(g, without));
            }
        });
        Assert.Null(HashPlacement.Choose(grains[0], []));
    }
}
