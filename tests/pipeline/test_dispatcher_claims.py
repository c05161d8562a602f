"""The dispatcher's claims under load: not one store round trip per freed slot, carriers in turn."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock

from smsgw.domain.model import ClaimedSegment
from smsgw.domain.outcomes import Submitted
from smsgw.pipeline.dispatcher import Dispatcher, DispatcherConfig
from smsgw.routing.router import RoutingTable


def segment(mid: int, carrier: str) -> ClaimedSegment:
    return ClaimedSegment(message_id=mid, seq=1, parts=1, payload=b"x", esm_class=0, data_coding=8,
                          source_addr="", dest_addr="13800138000", account_id=1, enterprise_id=1,
                          registered_delivery=1, priority=0, carrier=carrier, attempts=1, expires_at=2**40)


class Store:
    """Due segments per carrier; records every claim (carrier, limit)."""

    def __init__(self, due: dict[str, int]) -> None:
        self.due = dict(due)
        self.claims: list[tuple[str, int]] = []
        self.recorded: list[Any] = []
        self._next = 0

    def claim_due(self, now: int, limit: int, carrier: str) -> Deferred[list[ClaimedSegment]]:
        self.claims.append((carrier, limit))
        take = min(limit, self.due.get(carrier, 0))
        self.due[carrier] = self.due.get(carrier, 0) - take
        out = []
        for _ in range(take):
            self._next += 1
            out.append(segment(self._next, carrier))
        return succeed(out)

    def submitted(self, *args: Any) -> Deferred[bool]:
        self.recorded.append(args)
        return succeed(True)


class Group:
    def __init__(self) -> None:
        self.sent: list[tuple[ClaimedSegment, Deferred[Any]]] = []

    def available(self) -> bool:
        return True

    def send(self, seg: ClaimedSegment) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        self.sent.append((seg, d))
        return d


def answer(group: Group, count: int) -> None:
    for _ in range(count):
        seg, d = group.sent.pop(0)
        d.callback(Submitted(f"c{seg.message_id}", "g"))


def test_a_full_dispatcher_claims_again_only_when_min_claim_slots_are_free() -> None:
    clock, store = Clock(), Store({"cmcc": 1000})
    groups = {"cm": Group()}
    table = RoutingTable(groups={"cmcc": ("cm",)}, failover={}, accounts={}, carried_by={})
    dispatcher = Dispatcher(store, clock, groups, table, DispatcherConfig(max_in_flight=20, page=50, min_claim=8))
    dispatcher.start()
    clock.advance(0)
    assert store.claims == [("cmcc", 20)] and dispatcher.in_flight == 20
    answer(groups["cm"], 7)
    clock.advance(0)
    assert store.claims == [("cmcc", 20)]  # 7 free slots: no claim yet
    answer(groups["cm"], 1)
    clock.advance(0)
    assert store.claims == [("cmcc", 20), ("cmcc", 8)] and dispatcher.in_flight == 20
    assert len(store.recorded) == 8


def test_an_idle_dispatcher_claims_what_comes_and_carriers_take_turns_to_go_first() -> None:
    clock, store = Clock(), Store({"cmcc": 3, "cucc": 3, "ctcc": 3})
    groups = {"cm": Group(), "cu": Group(), "ct": Group()}
    table = RoutingTable(groups={"cmcc": ("cm",), "cucc": ("cu",), "ctcc": ("ct",)}, failover={}, accounts={},
                         carried_by={})
    dispatcher = Dispatcher(store, clock, groups, table, DispatcherConfig(max_in_flight=4, page=50, min_claim=3))
    dispatcher.start()
    clock.advance(0)
    # the first carrier takes the room (4, with nothing in flight: no minimum), the others wait
    assert store.claims == [("cmcc", 4)] and dispatcher.in_flight == 3
    answer(groups["cm"], 3)
    clock.advance(0)
    # the next round starts with the next carrier, which fills the room in its turn
    assert store.claims == [("cmcc", 4), ("cucc", 4)] and dispatcher.in_flight == 3
    answer(groups["cu"], 3)
    clock.advance(0)
    assert store.claims[2] == ("ctcc", 4)
    assert store.due == {"cmcc": 0, "cucc": 0, "ctcc": 0}
