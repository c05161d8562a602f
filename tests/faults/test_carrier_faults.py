"""Carrier faults against the whole gateway in process: an SMPP client's messages survive them.

``FaultGateway`` runs ``GatewayService`` on the embedded demo configuration
(SQLite, the three built-in carrier simulators, every port free) with link
timers short enough for a test: an unanswered request is resent after 1 s and
given up after the second send, an idle link is probed after 1 s, a lost
connection is tried again within a second.  Faults are switched on in the
simulators while the traffic flows (``smsgw.sim.faults``):

* connection cuts at random moments on all three carriers (on submits, and
  from outside at random intervals, SGIP's callback connection included);
* every carrier stops answering for a while, then recovers;
* a throttle storm on every carrier;
* every status report sent before the answer to its submit.

For each one a few hundred messages go in over SMPP (a third to each carrier,
registered delivery), and the test checks what the brief of a gateway is:
every acknowledged message reaches a final state in the store and gets exactly
one receipt, balance equals ledger, no report is left unmatched, nothing is
logged as an unhandled failure, and the links are up again at the end, with
the down/up changes visible in the log.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import attrs
import pytest
import pytest_twisted
from twisted.internet import reactor, task
from twisted.internet.defer import gatherResults
from twisted.logger import globalLogPublisher

from smsgw.app.config import load
from smsgw.app.gateway import GatewayService
from smsgw.domain import ids
from smsgw.net.links.config import SgipListenerConfig
from smsgw.net.links.events import Submitted
from smsgw.net.links.sgip import SgipListenerFactory
from smsgw.pipeline.policies import bootstrap_demo
from smsgw.session.carrier_events import LoggedIn as CarrierLoggedIn
from smsgw.session.sgip_sequence import format_message_id
from tests.gateway.wire_client import WireClient, connect, until, within
from tests.links.carriers import SgipCallback, SgipCarrier, listen, wait_for as link_wait
from tests.links.fixtures import segment as link_segment
from tests.links.rig import Rig as LinkRig

ROOT = Path(__file__).resolve().parents[2]
#: a destination prefix of each carrier (config/numbering.toml)
CARRIERS = {"cmcc": "138", "cucc": "186", "ctcc": "133"}
SGIP_LISTENER = SgipListenerConfig(name="sgip-in", port=0, login="smguser", secret="smgpass")
FINAL = frozenset({"delivered", "undelivered", "expired", "rejected"})
#: link settings for a test: fast resends, probes and reconnects (the rest as in config/smsgw.toml)
FAST_LINKS = dict(response_timeout=1.0, max_sends=2, active_test_interval=1.0, reconnect_min=0.1,
                  reconnect_max=1.0, throttle_hold=1.0)


@contextlib.contextmanager
def capture_log() -> Iterator[list[dict[str, Any]]]:
    """Every log event meanwhile (failures are checked, link changes read)."""
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        yield events
    finally:
        globalLogPublisher.removeObserver(events.append)


@pytest.fixture
def logged() -> Iterator[list[dict[str, Any]]]:
    with capture_log() as events:
        yield events


def failures(events: list[dict[str, Any]]) -> list[str]:
    return [e["log_failure"].getTraceback() for e in events if "log_failure" in e]


def link_changes(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(link group, "up"/"down") as the gateway logged them, in order."""
    return [(e["name"], e["state"]) for e in events
            if e.get("log_namespace") == "smsgw.pipeline.carrier_events" and "state" in e and "name" in e]


@attrs.define
class Sent:
    """The messages a client had acknowledged (their carriers by message id) and its receipts."""

    carrier_of: dict[str, str] = attrs.Factory(dict)

    @property
    def ids(self) -> list[str]:
        return list(self.carrier_of)

    def receipts(self, client: WireClient) -> list[str]:
        return [_text(p.fields["tlvs"]["receipted_message_id"]) for p in client.received
                if p.command == "deliver_sm" and p.fields["esm_class"] & 0x04]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class FaultGateway:
    """The whole gateway in this process, with the simulators it starts for itself."""

    def __init__(self, tmp_path: Path, *, receipt_delay: float = 0.2, smpp: dict[str, Any] | None = None,
                 **link_changes: Any) -> None:
        """``smpp`` changes the ``[smpp]`` section (timers), ``link_changes`` every link."""
        cfg = load(ROOT / "config" / "smsgw.toml").with_overrides(
            data_dir=str(tmp_path / "data"), smpp_port=0, web_port=0, manhole_port=0, metrics_port=0)
        links = tuple(attrs.evolve(link, **{**FAST_LINKS, **link_changes}) for link in cfg.links)
        self.config = attrs.evolve(
            cfg, links=links, smpp=attrs.evolve(cfg.smpp, **(smpp or {})), web=attrs.evolve(cfg.web, enabled=False),
            manhole=attrs.evolve(cfg.manhole, enabled=False), metrics=attrs.evolve(cfg.metrics, enabled=False),
            simulators=attrs.evolve(cfg.simulators, receipt_delay=receipt_delay, delivered_share=0.9, seed=5))
        self.db = tmp_path / "data" / "smsgw.db"
        self.service = GatewayService(self.config, reactor, announce=lambda text: None)
        self.port = 0

    async def start(self) -> FaultGateway:
        self.service.startService()
        listening = await self.service.ready
        self.port = listening.smpp
        return self

    @property
    def simulators(self) -> dict[str, Any]:
        return self.service.simulators

    def groups(self) -> list[Any]:
        return list(self.service.groups.values())

    async def client(self, login: str = "demo", password: str = "demo", **options: Any) -> WireClient:
        """A transceiver bound as ``login`` (``options`` go to ``wire_client.connect``)."""
        client = await connect(self.port, **options)
        bound = await within(client.bind(login, password), 15)
        assert bound.status == 0, bound
        return client

    async def account(self, login: str, password: str, *, sender: bool, **fields: Any) -> Any:
        """A new enterprise account; a ``sender`` one gets the demo's treatment (balance, open window,
        verified signature) so that its messages go out like the demo account's."""
        store = self.service.store
        assert store is not None
        now = int(time.time() * 1000)
        account = await store.create_account(login, password, now, "test", **fields)
        if sender:
            await store.recharge(account.id, 10**9, now, "test")
            await bootstrap_demo(self.service.policies, account)
        return account

    async def submit(self, client: WireClient, count: int, sent: Sent, *, seed: int, window: int = 32) -> None:
        """``count`` messages, a third to each carrier, ``window`` at a time (each batch answered within 30 s)."""
        rng = random.Random(seed)
        carriers = list(CARRIERS)
        for start in range(0, count, window):
            batch = []
            for n in range(start, min(count, start + window)):
                carrier = carriers[n % 3]
                dest = CARRIERS[carrier] + f"{rng.randrange(10**8):08d}"  # never a run of numbers
                batch.append((carrier, client.submit(dest, f"fault test {seed}-{n}".encode(),
                                                     registered_delivery=1)))
            answers = await within(gatherResults([d for _, d in batch]), 30)
            for (carrier, _), answer in zip(batch, answers):
                assert (answer.command, answer.status) == ("submit_sm_resp", 0), answer
                sent.carrier_of[_text(answer.fields["message_id"])] = carrier

    async def all_receipted(self, client: WireClient, sent: Sent, timeout: float) -> None:
        await until(lambda: len(sent.receipts(client)) >= len(sent.ids), timeout=timeout,
                    what=f"{len(sent.ids)} receipts (have {len(sent.receipts(client))})")
        await task.deferLater(reactor, 0.5, lambda: None)  # time for a duplicate, if one were coming

    def counted(self, counter: str) -> dict[str, int]:
        """One counter of each simulator, by family (cmpp, sgip, smgp)."""
        return {family: sim.counters[counter] for family, sim in self.simulators.items()}

    @property
    def dispatcher_throttled(self) -> int:
        assert self.service.dispatcher is not None
        return self.service.dispatcher.counters["throttled"]

    async def stop(self) -> None:
        if self.service.running:
            await self.service.stopService()


class Sampler:
    """Calls ``probe`` every ``every`` seconds on the reactor and keeps what it returns in ``values``."""

    def __init__(self, probe: Callable[[], Any], every: float = 0.02) -> None:
        self.values: list[Any] = []
        self.every = every
        self._loop = task.LoopingCall(lambda: self.values.append(probe()))
        self._loop.clock = reactor

    def start(self) -> None:
        self._loop.start(self.every)

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()


def check_store(db: Path, sent: Sent) -> dict[str, int]:
    """Every acknowledged message is final in the store; balance equals ledger.  Returns the final states."""
    with sqlite3.connect(db) as conn:
        states = {row[0]: (row[1], row[2]) for row in conn.execute("select id, state, carrier from messages")}
        balance, ledger = conn.execute("select (select sum(balance) from accounts where parent_id is null), "
                                       "(select sum(amount) from ledger)").fetchone()
        stuck = conn.execute("select count(*) from segments where state not in "
                             "('delivered', 'undelivered', 'expired', 'rejected')").fetchone()[0]
    counted: dict[str, int] = {}
    for message_id, carrier in sent.carrier_of.items():
        state, stored_carrier = states[ids.from_text(message_id)]
        assert state in FINAL, (message_id, state)
        assert stored_carrier == carrier
        counted[state] = counted.get(state, 0) + 1
    assert stuck == 0
    assert balance == ledger
    return counted


def check_receipts(client: WireClient, sent: Sent) -> None:
    receipted = sent.receipts(client)
    assert sorted(receipted) == sorted(sent.ids), (len(receipted), len(sent.ids))  # exactly one each


def check_links_up(gw: FaultGateway) -> None:
    for group in gw.groups():
        state = group.state
        assert state.up and group.available(), state
        assert state.in_flight == 0 and state.early_reports == 0 and not state.throttled, state


async def finish(gw: FaultGateway, client: WireClient, sent: Sent, timeout: float,
                 logged: list[dict[str, Any]]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """With the fault over: everything receipted once, then a few more messages to each carrier go
    through at once (the links have recovered); the store checked after a clean stop.  Returns the
    final states and the links' down/up changes until then."""
    await gw.all_receipted(client, sent, timeout)
    await gw.submit(client, 6, sent, seed=99)
    await gw.all_receipted(client, sent, 10)
    check_receipts(client, sent)
    check_links_up(gw)
    assert gw.service.carrier_events is not None
    assert gw.service.carrier_events.counters["unmatched"] == 0  # no report came too early to be matched
    changes = link_changes(logged)
    client.abort()
    await gw.stop()
    return check_store(gw.db, sent), changes


async def around_a_fault(gw: FaultGateway, logged: list[dict[str, Any]], fault: Callable[[], None], *,
                         before: int, after: int, seed: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """``before`` messages, then ``fault()``, then ``after`` more while it lasts; ``finish`` after that."""
    sent = Sent()
    client = await gw.client()
    await gw.submit(client, before, sent, seed=seed)
    fault()
    await gw.submit(client, after, sent, seed=seed + 1)  # accepted meanwhile: they wait in the store if need be
    return await finish(gw, client, sent, 60, logged)


def went_down_and_came_back(changes: list[tuple[str, str]], link: str) -> bool:
    mine = [state for name, state in changes if name == link]
    return "down" in mine and mine[-1] == "up"


# ---------------------------------------------------------------------- the faults


@pytest_twisted.ensureDeferred
async def test_connections_cut_at_random_moments_on_all_three_carriers(tmp_path: Path, logged: list[Any]) -> None:
    gw = FaultGateway(tmp_path)
    try:
        await gw.start()
        await cuts_at_random(gw, logged)
    finally:
        await gw.stop()


async def cuts_at_random(gw: FaultGateway, logged: list[Any]) -> None:
    rng = random.Random(21)
    cuts = {family: 0 for family in ("cmpp", "sgip", "smgp")}
    for sim in gw.simulators.values():
        sim.behaviour.drop_probability = 0.02  # on a submit: dropped unanswered (the gateway must send again)

    def cut() -> None:
        family = rng.choice(sorted(cuts))
        cuts[family] += gw.simulators[family].drop_connections()

    cutter = task.LoopingCall(cut)
    cutter.clock = reactor
    sent = Sent()
    client = await gw.client()
    try:
        cutter.start(0.1, now=False)  # while the messages go out and their reports come back
        await gw.submit(client, 300, sent, seed=1)
        await gw.all_receipted(client, sent, 60)
        await until(lambda: min(cuts.values()) >= 3, timeout=10, what="three cuts of each carrier")
    finally:
        cutter.stop()
    for sim in gw.simulators.values():
        sim.behaviour.drop_probability = 0.0
    states, changes = await finish(gw, client, sent, 60, logged)
    dropped = gw.counted("dropped")

    assert all(went_down_and_came_back(changes, link) for link in ("cmcc-sim", "cucc-sim", "ctcc-sim")), changes
    assert failures(logged) == []
    resent = gw.counted("requeued")
    print(f"cuts from outside {cuts}, drops on submits {dropped}, reports/MO sent again {resent}, "
          f"final states {states}, link changes {len(changes)}")


@pytest_twisted.ensureDeferred
async def test_carriers_that_stop_answering_then_recover(tmp_path: Path, logged: list[Any]) -> None:
    # a silent link is probed after 0.5 s and given up 2 s later: well within the 4 s of silence
    gw = FaultGateway(tmp_path, active_test_interval=0.5)
    try:
        await gw.start()

        def silence() -> None:
            for sim in gw.simulators.values():
                sim.silence(4.0)  # logins still answered; submits, keep-alives and reports not

        states, changes = await around_a_fault(gw, logged, silence, before=90, after=210, seed=2)
    finally:
        await gw.stop()
    ignored = gw.counted("ignored")
    assert all(n > 0 for n in ignored.values()), ignored  # every carrier left submits unanswered
    # CMPP and SMGP notice the silence by their unanswered keep-alives and submits: down, then up again
    assert went_down_and_came_back(changes, "cmcc-sim") and went_down_and_came_back(changes, "ctcc-sim"), changes
    assert failures(logged) == []
    print(f"submits ignored {ignored}, final states {states}, link changes {changes}")


@pytest_twisted.ensureDeferred
async def test_a_throttle_storm_on_every_carrier(tmp_path: Path, logged: list[Any]) -> None:
    gw = FaultGateway(tmp_path)
    rates = Sampler(lambda: {g.link_name: g.state.tps for g in gw.groups()})
    try:
        await gw.start()
        rates.start()

        def storm() -> None:
            for sim in gw.simulators.values():
                sim.throttle_storm(2.0)  # every submit answered with Result 8 / Result 11 / Status 1

        states, changes = await around_a_fault(gw, logged, storm, before=60, after=240, seed=4)
    finally:
        rates.stop()
        await gw.stop()
    stormed = gw.counted("storm_throttled")
    assert all(n > 0 for n in stormed.values()), stormed
    slowest = {name: min(sample[name] for sample in rates.values) for name in rates.values[0]}
    assert all(tps < 5000 for tps in slowest.values()), slowest  # backed off (and back to 5000 by the end)
    assert gw.dispatcher_throttled > 0
    assert failures(logged) == []
    print(f"submits throttled in the storm {stormed}, TPS at the slowest seen {slowest}, final states {states}")


@pytest_twisted.ensureDeferred
async def test_every_report_before_the_answer_to_its_submit(tmp_path: Path, logged: list[Any]) -> None:
    gw = FaultGateway(tmp_path, response_timeout=3.0)  # an answer may wait up to a second for its report
    held = Sampler(lambda: sum(g.state.early_reports for g in gw.groups()), every=0.01)
    try:
        await gw.start()
        held.start()

        def reports_first() -> None:
            for sim in gw.simulators.values():
                sim.behaviour.report_first = 1.0

        states, changes = await around_a_fault(gw, logged, reports_first, before=0, after=300, seed=6)
    finally:
        held.stop()
        await gw.stop()
    first = gw.counted("reports_first")
    assert all(n >= 100 for n in first.values()), first  # every report of every carrier went first
    assert max(held.values) > 0  # the links did hold reports back for their submits' answers
    assert failures(logged) == []
    print(f"reports sent before the submit's answer {first}, most held at once {max(held.values)}, "
          f"final states {states}")


# ---------------------------------------------------------------------- the cause, at the link


@pytest.mark.parametrize("lost", ["connection cut", "no answer"])
@pytest_twisted.ensureDeferred
async def test_an_sgip_report_before_a_lost_answer_proves_the_submit_was_taken(lost: str) -> None:
    """The SMG reports on our submit's triple (over its own connection), then the answer never comes:
    the connection is cut, or the submit is given up.  The report is the carrier's word that it took
    the submit: the segment is ``Submitted`` under that triple, its report matches it, and it is not
    sent again (a second SMS to the handset).  Before the fix it came back as ``Requeue`` and its
    report went up unmatched."""
    r = await LinkRig(SgipCarrier("spuser", "sppass"), "sgip12").start(response_timeout=0.3, max_sends=1,
                                                                        reconnect_min=0.05)
    smg = SgipCallback("smguser", "smgpass")
    try:
        port = await listen(SgipListenerFactory(SGIP_LISTENER, r.group, reactor))
        r.extra_ports.append(port)
        await smg.connect(port.getHost().port)
        await link_wait(lambda: any(isinstance(e, CarrierLoggedIn) for e in smg.events), what="the SMG's bind")
        r.carrier.mode = "hold"
        pending = r.send(link_segment())
        await link_wait(lambda: r.carrier.held, what="the submit at the SMG")
        _, triple = r.carrier.held[0]
        carrier_id = format_message_id(triple)
        smg.report(carrier_id, state=0)
        await link_wait(lambda: r.group.state.early_reports == 1, what="the report held for its answer")
        if lost == "connection cut":
            r.carrier.drop_all()
        outcome = await pending
        assert outcome == Submitted(carrier_id, r.group.name)
        await link_wait(lambda: r.observer.reports, what="the report")
        log = [entry for entry in r.observer.log if entry[0] != "state"]
        assert log[-2:] == [("submitted", carrier_id), ("report", carrier_id)]
        assert len(r.carrier.submits) == 1 and r.group.state.early_reports == 0
    finally:
        smg.close()
        await r.close()
