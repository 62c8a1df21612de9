using Conduit.Runtime;
using Conduit.Runtime.Directory;
using Conduit.Runtime.Membership;

namespace Conduit.Tests.Cluster;

public sealed class InMemoryGrainDirectoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly SiloAddress SiloA = new("127.0.0.1", 1, 11);
    private static readonly SiloAddress SiloB = new("127.0.0.1", 2, 22);

    [Fact]
    public async Task UnregisterSiloAsync_DeadSilo_DeletesOnlyTheEntriesItStillOwns()
    {
        var table = new InMemoryMembershipTable();
        Assert.True(await table.TryWriteAsync(new MembershipEntry(SiloA, SiloStatus.Active, T0, T0, "h", null), 0, default));
        Assert.True(await table.TryWriteAsync(new MembershipEntry(SiloB, SiloStatus.Active, T0, T0, "h", null), 1, default));
        var directory = new InMemoryGrainDirectory(table);
        var grains = Enumerable.Range(0, 5).Select(i => new GrainId("g", i.ToString())).ToList();
        foreach (var grain in grains)
        {
            await directory.RegisterAsync(new GrainAddress(grain, SiloA, "a"), default);
        }

        Assert.True(await table.TryWriteAsync(new MembershipEntry(SiloA, SiloStatus.Dead, T0, T0, "h", null), 2, default));
        var takenOver = new GrainAddress(grains[0], SiloB, "b");
        Assert.Equal(takenOver, await directory.RegisterAsync(takenOver, default));

        Assert.Equal(4, await directory.UnregisterSiloAsync(SiloA, default));
        Assert.Equal(0, await directory.UnregisterSiloAsync(SiloA, default));
        Assert.Equal(takenOver, await directory.LookupAsync(grains[0], default));
    }
}
