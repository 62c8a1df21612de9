using Conduit.Gateway.Sockets;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Gateway;

/// <summary>
/// The rules that keep a session's pushes behind the answers the upstream sent before them (the end-to-end case is
/// <see cref="GatewaySessionModeTests.PushesRightAfterAnAnswer_ReachTheClientAfterIt_InTheUpstreamOrder"/>).
/// </summary>
public sealed class UpstreamOrderTests : IDisposable
{
    private readonly List<string> _written = [];
    private readonly FakeTimeProvider _clock = new();
    private readonly UpstreamOrder _order;
    private int _inFlight = 1;

    public UpstreamOrderTests() => _order = new UpstreamOrder(_written.Add, () => _inFlight > 0, _clock);

    public void Dispose() => _order.Dispose();

    [Fact]
    public void PushArrivesBeforeTheAnswerSentBeforeIt_WrittenRightAfterThatAnswer()
    {
        _order.Push("p2", 2);
        _order.Push("p3", 3);
        Assert.Empty(_written);
        Assert.Equal(2, _order.Held);

        _order.Answer("a1", [1]);

        Assert.Equal(["a1", "p2", "p3"], _written);
        Assert.Equal(0, _order.Held);
    }

    [Fact]
    public void PushAfterWhatCameBefore_WrittenAtOnce_AnAnswerSentLaterIsNotWaitedFor()
    {
        _order.Answer("a1", [1]);
        _order.Push("p2", 2);
        Assert.Equal(["a1", "p2"], _written);

        // Answers are never held, not even behind a push still missing (4): the client matches them by id.
        _order.Answer("a5", [5]);
        _order.Answer("a3", [3]);
        Assert.Equal(["a1", "p2", "a5", "a3"], _written);
        _order.Push("p4", 4);
        _order.Push("p6", 6);
        Assert.Equal(["a1", "p2", "a5", "a3", "p4", "p6"], _written);
    }

    [Fact]
    public void AnswersOutOfOrder_PushWaitsForAllOfThem_ANotificationsAnswerHasNoText()
    {
        _order.Push("p4", 4);
        _order.Answer("a3", [3]);
        _order.Answer(null, [1]);
        Assert.Equal(["a3"], _written);

        _order.Answer("a2", [2]);

        Assert.Equal(["a3", "a2", "p4"], _written);
    }

    [Fact]
    public void BatchAnswer_PushWaitsForTheWholeBatch()
    {
        _order.Push("p3", 3);
        _order.Answer("[a1,a2,e]", [2, 1, 0]);

        Assert.Equal(["[a1,a2,e]", "p3"], _written);
    }

    [Fact]
    public void NothingInFlightAnyMore_HeldPushesGo_InTheirOrder_AndLaterOnesFollowAtOnce()
    {
        // The answer before them never came (its call failed on the way), and nothing else is in flight.
        _order.Push("p2", 2);
        _order.Push("p3", 3);
        _inFlight = 0;
        _order.NothingInFlight();
        _order.Push("p5", 5);

        Assert.Equal(["p2", "p3", "p5"], _written);
    }

    [Fact]
    public void AnEarlierAnswerNeverComes_WhileOthersStayInFlight_PushesGoAfterTheHoldback_NotBefore()
    {
        _order.Push("p2", 2);
        _clock.Advance(UpstreamOrder.MaxHoldback - TimeSpan.FromMilliseconds(1));
        _order.Push("p3", 3);
        Assert.Empty(_written);

        _clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(["p2", "p3"], _written);
        Assert.Equal(0, _clock.ArmedTimers);

        // What was given up on does not hold later pushes; the given-up answer, should it come after all, is written.
        _order.Push("p4", 4);
        _order.Answer("a1", [1]);
        Assert.Equal(["p2", "p3", "p4", "a1"], _written);
    }

    [Fact]
    public void UnnumberedPush_WaitsBehindHeldOnes_ElseGoesAtOnce()
    {
        _order.Push("p2", 2);
        _order.Push("u", 0);
        Assert.Empty(_written);

        _order.Answer("a1", [1]);
        _order.Push("u2", 0);

        Assert.Equal(["a1", "p2", "u", "u2"], _written);
    }

    [Fact]
    public void Dispose_StopsTheHoldbackTimer()
    {
        _order.Push("p2", 2);
        Assert.Equal(1, _clock.ArmedTimers);

        _order.Dispose();

        Assert.Equal(0, _clock.ArmedTimers);
        _clock.Advance(UpstreamOrder.MaxHoldback);
        Assert.Empty(_written);
    }
}
