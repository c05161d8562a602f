"""Refused logins back off slowly, counted over simulated time (``task.Clock``), real sockets for the rest.

The group's clock (reconnect policy, queue and session timers) is a ``task.Clock``;
the connections themselves are real loopback sockets, so each simulated attempt
is waited for in real time.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from smsgw.net.links.events import Requeue
from tests.links.carriers import CmppCarrier, SgipCarrier, SmgpCarrier, sleep, wait_for
from tests.links.fixtures import segment
from tests.links.rig import Rig

CARRIERS: dict[str, Any] = {
    "cmpp30": lambda: CmppCarrier({"901234": "another secret"}),
    "smgp30": lambda: SmgpCarrier({"client01": "another secret"}),
    "sgip12": lambda: SgipCarrier("spuser", "another secret"),
}


async def settle(r: Rig, clock: Clock, attempts: int) -> None:
    """Wait (real time) until the ``attempts``-th login was refused and the next retry is scheduled."""
    await wait_for(lambda: len(r.carrier.logins) == attempts and r.group.state.login_failures == attempts
                   and r.group.state.connections + r.group.state.connecting == 0 and clock.getDelayedCalls(),
                   what=f"login attempt {attempts} to be refused")


@pytest.mark.parametrize("protocol", ["cmpp30", "smgp30", "sgip12"])
@pytest_twisted.ensureDeferred
async def test_bad_credentials_back_off_without_hammering(protocol: str) -> None:
    clock = Clock()
    r = await Rig(CARRIERS[protocol](), protocol).start(clock=clock, on_demand=False, auth_backoff_min=60,
                                                        auth_backoff_max=900, reconnect_factor=2.0)
    try:
        await settle(r, clock, 1)
        assert "login refused" in (r.group.state.last_error or "")
        times = [0.0]
        # 1000 simulated seconds: a naive 1 s reconnect would log in 1000 times
        while True:
            next_call = min(c.getTime() for c in clock.getDelayedCalls())
            if next_call > 1000:
                break
            clock.advance(next_call - clock.seconds())
            times.append(clock.seconds())
            await settle(r, clock, len(times))
        assert times == [0, 60, 180, 420, 900]  # 60 s, doubling, at most 900 s
        await sleep(0.05)
        assert len(r.carrier.logins) == 5
        assert r.observer.states == []  # never up
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_on_demand_link_respects_the_backoff_too() -> None:
    clock = Clock()
    r = await Rig(CARRIERS["sgip12"](), "sgip12").start(clock=clock, auth_backoff_min=60, queue_timeout=300)
    try:
        pending = r.send(segment())
        await settle(r, clock, 1)
        clock.advance(59)
        await sleep(0.05)
        assert len(r.carrier.logins) == 1  # work is waiting, but the backoff holds
        clock.advance(1)
        await settle(r, clock, 2)
        clock.advance(240)  # queue timeout: the segment goes back to the dispatcher
        outcome = await pending
        assert isinstance(outcome, Requeue) and "login refused" in outcome.reason
    finally:
        await r.close()


@pytest_twisted.ensureDeferred
async def test_unreachable_carrier_requeues_after_the_queue_timeout() -> None:
    clock = Clock()
    r = Rig(CARRIERS["cmpp30"](), "cmpp30")
    await r.start(clock=clock, queue_timeout=30)
    await r.port.stopListening()  # nobody listens there any more
    r.port = None
    try:
        pending = r.send(segment())
        clock.advance(29)
        assert not pending.called
        clock.advance(1)
        outcome = await pending
        assert isinstance(outcome, Requeue) and "no usable connection within 30 s" in outcome.reason
    finally:
        await r.close()
