"""EarlyReports: barrier releases stay right when reports leave by id, expiry or the limit first."""

from __future__ import annotations

from smsgw.domain.model import MessageState, Report
from smsgw.net.links.reports import EarlyReports


def rep(cid: str) -> Report:
    return Report("cmcc", cid, MessageState.DELIVERED, "DELIVRD", 0)


def test_released_reports_are_not_released_twice_and_barriers_release_in_arrival_order() -> None:
    early = EarlyReports(ttl=10.0, limit=3)
    assert early.hold(rep("a"), 0.0, barrier=2) == []
    assert early.hold(rep("b"), 1.0, barrier=None) == []
    assert early.hold(rep("c"), 2.0, barrier=4) == []
    assert early.release_id("c") == [rep("c")]  # left by its id before its barrier settled
    assert early.hold(rep("d"), 3.0, barrier=5) == []
    assert early.hold(rep("e"), 4.0, barrier=5) == [rep("a")]  # over the limit: the oldest goes
    assert early.release_settled(open_from=5) == []  # a and c are gone; d and e wait for submit 5
    assert early.expire(13.5) == [rep("b"), rep("d")]
    assert early.release_settled(open_from=6) == [rep("e")]
    assert len(early) == 0
    assert early.release_settled(open_from=None) == []


def test_barrier_none_releases_everything_held_on_a_barrier_only() -> None:
    early = EarlyReports(ttl=10.0, limit=100)
    early.hold(rep("x"), 0.0, barrier=7)
    early.hold(rep("y"), 0.0, barrier=None)
    early.hold(rep("z"), 0.0, barrier=9)
    assert early.release_settled(open_from=8) == [rep("x")]
    assert early.release_settled(open_from=None) == [rep("z")]
    assert early.release_id("y") == [rep("y")]
