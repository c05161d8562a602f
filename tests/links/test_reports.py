"""Carrier stat words -> our states (raw words kept), and the early-report buffer."""

from __future__ import annotations

import pytest

from smsgw.domain.model import MessageState as S
from smsgw.domain.model import Report
from smsgw.net.links.reports import EarlyReports, report_time, sgip_stat, state_of_stat
from tests.links.fixtures import WALL_S


@pytest.mark.parametrize(("stat", "state"), [
    ("DELIVRD", S.DELIVERED), ("delivrd", S.DELIVERED), ("EXPIRED", S.EXPIRED), ("UNDELIV", S.UNDELIVERED),
    ("DELETED", S.UNDELIVERED), ("UNKNOWN", S.UNDELIVERED), ("REJECTD", S.UNDELIVERED),
    ("ACCEPTD", None), ("ENROUTE", None),
    ("MK:0001", S.UNDELIVERED), ("MI:0013", S.UNDELIVERED), ("ID:0076", S.UNDELIVERED),
    ("DB:0008", S.UNDELIVERED), ("MA:0054", S.UNDELIVERED), ("IC:0015", S.UNDELIVERED), ("AF:4", S.UNDELIVERED),
    ("", S.UNDELIVERED), ("9999", S.UNDELIVERED),
])
def test_stat_table(stat: str, state: S | None) -> None:
    assert state_of_stat(stat) is state


def test_stat_overrides_exact_and_prefix() -> None:
    overrides = {"MK:0024": "expired", "MI:": "expired", "DB:0008": "delivered", "UNKNOWN": "not_final"}
    assert state_of_stat("MK:0024", overrides) is S.EXPIRED
    assert state_of_stat("MK:0001", overrides) is S.UNDELIVERED
    assert state_of_stat("MI:0013", overrides) is S.EXPIRED
    assert state_of_stat("DB:0008", overrides) is S.DELIVERED
    assert state_of_stat("UNKNOWN", overrides) is None
    with pytest.raises(ValueError):
        state_of_stat("MK:0001", {"MK:": "queued"})


def test_sgip_states() -> None:
    assert (sgip_stat(0), sgip_stat(2), sgip_stat(7)) == ("DELIVRD", "UNDELIV", "UNDELIV")


@pytest.mark.parametrize(("text", "expected"), [
    ("2403080931", int(WALL_S * 1000) + 60_000), ("240308093130", int(WALL_S * 1000) + 90_000),
    ("0001010000", None), ("", None), ("24130809", None), ("2413080931", None),
])
def test_report_time(text: str, expected: int | None) -> None:
    assert report_time(text) == expected


def rep(cid: str) -> Report:
    return Report(carrier="cmcc", carrier_msg_id=cid, state=S.DELIVERED, stat="DELIVRD", received_at=0)


def test_held_until_its_id_appears() -> None:
    early = EarlyReports(ttl=60, limit=100)
    assert early.hold(rep("a"), 0.0, barrier=None) == []
    assert early.hold(rep("b"), 0.0, barrier=None) == []
    assert early.release_settled(None) == []  # id-bound reports do not go with the barrier
    assert early.release_id("b") == [rep("b")]
    assert early.release_id("b") == []
    assert len(early) == 1


def test_barrier_release_when_older_submits_are_answered() -> None:
    early = EarlyReports(ttl=60, limit=100)
    early.hold(rep("x"), 0.0, barrier=5)  # arrived when submit #5 was the latest sent
    early.hold(rep("y"), 1.0, barrier=9)
    assert early.release_settled(open_from=3) == []  # submit #3 is still unanswered
    assert early.release_settled(open_from=7) == [rep("x")]  # 1..6 answered
    assert early.release_settled(open_from=None) == [rep("y")]
    assert len(early) == 0


def test_two_reports_for_one_id() -> None:
    early = EarlyReports(ttl=60, limit=100)
    early.hold(rep("g"), 0.0, barrier=2)
    early.hold(rep("g"), 0.5, barrier=None)
    assert early.release_id("g") == [rep("g"), rep("g")]


def test_expiry_and_limit_release_instead_of_dropping() -> None:
    early = EarlyReports(ttl=10, limit=2)
    early.hold(rep("1"), 0.0, barrier=None)
    early.hold(rep("2"), 5.0, barrier=None)
    assert early.hold(rep("3"), 6.0, barrier=None) == [rep("1")]  # over the limit: the oldest goes
    assert early.next_deadline() == 15.0
    assert early.expire(14.9) == []
    assert early.expire(15.0) == [rep("2")]
    assert early.drain() == [rep("3")]
    assert early.next_deadline() is None
