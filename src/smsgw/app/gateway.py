"""The gateway as one service tree: store, SMPP listener, carrier links, simulators, housekeeping.

``GatewayService(config, reactor)`` is what ``smsgw run`` and ``twistd smsgw``
start.  Start order: store (recovered, writer running), SGIP listeners and
built-in simulators (so links know their ports), link groups, the demo
bootstrap, then the SMPP listener, dispatcher, notifier and housekeeping.
Stop order is the reverse, and graceful: the listener stops accepting, bound
clients are unbound, links finish or re-queue what is in flight, and the
writer commits everything queued before the process ends.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any, Callable

import attrs
from twisted.application.service import MultiService
from twisted.internet import defer
from twisted.internet.interfaces import IListeningPort
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from smsgw.app.config import Config
from smsgw.domain.coding import Coding
from smsgw.domain.ids import IdGenerator
from smsgw.domain.model import AccountStatus
from smsgw.net.links.config import LinkConfig, SgipListenerConfig
from smsgw.net.links.group import LinkGroup
from smsgw.net.links.sgip import SgipListenerFactory
from smsgw.net.listen import listen as listen_tcp_or_tls
from smsgw.net.smpp_listener import SmppServerFactory
from smsgw.net.smpp_listener import listen as smpp_listen
from smsgw.pipeline.carrier_events import CarrierEvents
from smsgw.pipeline.dispatcher import Dispatcher
from smsgw.pipeline.intake import Intake, IntakeConfig
from smsgw.pipeline.notifier import Notifier
from smsgw.pipeline.overrides import Portability
from smsgw.pipeline.policies import PolicyService, bootstrap_demo
from smsgw.pipeline.storage import StoreClient
from smsgw.session.smpp_server import Timers
from smsgw.sim import behaviour as sim_behaviour
from smsgw.sim.cmpp import CmppSimulator
from smsgw.sim.sgip import SgipSimulator
from smsgw.sim.smgp import SmgpSimulator
from smsgw.store import accounts as store_accounts
from smsgw.store import migrate
from smsgw.store.startup import OpenStore, open_store

log = Logger(namespace="smsgw.app")

DEMO_LOGIN = "demo"
DEMO_PASSWORD = "demo"
#: balance for at least a million segments at the demo price
DEMO_SEGMENTS = 1_000_000
DEMO_EXTENSION = "8888"

_DC0 = {"gsm7": Coding.GSM7, "ascii": Coding.ASCII, "latin1": Coding.LATIN1}


@attrs.define
class Listening:
    """Where the running gateway listens (printed at start, used by tests)."""

    smpp: int = 0
    web: int = 0
    manhole: int = 0
    manhole_ssh: int = 0
    metrics: int = 0
    simulators: dict[str, int] = attrs.field(factory=dict)
    sgip_listeners: dict[str, int] = attrs.field(factory=dict)


class GatewayService(MultiService):
    def __init__(self, config: Config, reactor: Any, *, announce: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.config = config
        self.reactor = reactor
        self.announce = announce or (lambda text: log.info("{text}", text=text))
        self.listening = Listening()
        self.opened: OpenStore | None = None
        self.store: StoreClient | None = None
        self.readers = ThreadPool(minthreads=1, maxthreads=4, name="smsgw-store-readers")
        self.groups: dict[str, LinkGroup] = {}
        self.simulators: dict[str, Any] = {}
        self.ready: defer.Deferred[Listening] = defer.Deferred()
        self._ports: list[IListeningPort] = []
        self._smpp_port: IListeningPort | None = None
        self._loops: list[LoopingCall] = []
        self.dispatcher: Dispatcher | None = None
        self.notifier: Notifier | None = None
        self.intake: Intake | None = None
        self.smpp_factory: SmppServerFactory | None = None
        self.carrier_events: CarrierEvents | None = None
        self.operations: Any = None  # smsgw.app.operations.Operations: manhole and metrics

    # ------------------------------------------------------------------ start

    def now_ms(self) -> int:
        return int(self.reactor.seconds() * 1000)

    def startService(self) -> None:
        cfg = self.config
        os.makedirs(cfg.gateway.data_dir, exist_ok=True)
        url = cfg.store_url()
        if cfg.store.auto_upgrade:
            migrate.upgrade(url)
        self.opened = open_store(url, notify=self.reactor.callFromThread, now=int(time.time() * 1000))
        report = self.opened.recovery
        log.info("store opened: {report}", report=report)
        self.readers.start()
        self.store = StoreClient(self.opened.writer, self.reactor, self.readers)
        self.ids = IdGenerator(clock=lambda: int(time.time() * 1000), node=cfg.gateway.node_id,
                               floor=self.opened.id_floor)

        self.notifier = Notifier(self.store, self.reactor)
        self.carrier_events = CarrierEvents(self.store, self.ids, wake=self.notifier.wake,
                                            sp_numbers={link.name: link.sp_number for link in cfg.links},
                                            link_up=self._link_state)
        links = self._start_carrier_side()
        for link in links:
            group = LinkGroup(link, self.carrier_events, reactor=self.reactor,
                              extensions=self._extension_of)
            group.setName(f"link:{link.name}")
            group.setServiceParent(self)
            self.groups[link.name] = group
        self._start_sgip_listeners_sinks()
        self.dispatcher = Dispatcher(self.store, self.reactor, self.groups, cfg.routing_table())
        self.portability = Portability(self.store)
        self.policies = PolicyService(
            self.store, self.reactor, self.ids, cfg.plan, cfg.policy, wake=self.notifier.wake,
            poke=self.dispatcher.poke,
            link_capacity=lambda: float(sum(g.config.tps for g in self.groups.values() if g.available())))
        self.dispatcher.window = self.policies.window_release  # nothing goes out while its window is closed
        self.carrier_events.mo_routed = self.policies.mo_received
        self.intake = Intake(self.store, self.ids, self.reactor, cfg.plan, self.notifier,
                             portability=self.portability.current, policies=self.policies,
                             config=IntakeConfig(dc0=_DC0.get(cfg.smpp.dc0, Coding.GSM7),
                                                 default_price=cfg.policy.default_price),
                             accepted=self.dispatcher.poke)
        super().startService()  # link groups start connecting
        d = defer.ensureDeferred(self._finish_start())
        d.addCallbacks(self.ready.callback, self._start_failed)

    def _start_failed(self, failure: Any) -> None:
        log.failure("gateway failed to start", failure)
        self.ready.errback(failure)
        self.reactor.callLater(0, self.reactor.stop)

    async def _finish_start(self) -> Listening:
        cfg = self.config
        assert self.store is not None and self.carrier_events is not None
        if cfg.gateway.demo:
            await self._demo_bootstrap()
        await self.policies.start()
        if cfg.gateway.demo:
            # open all day (the global window stays 07:00-22:30) and a verified signature
            await bootstrap_demo(self.policies, self._demo_account)
        await self.carrier_events.refresh_extensions()
        await self.portability.refresh()
        await self._resolve_account_routes()
        self._every(60.0, self.carrier_events.refresh_extensions)
        self._every(60.0, self.portability.refresh)
        # the policy service releases held messages itself, paced by the links' capacity
        self._every(10.0, self._expire)
        timers = Timers(enquire_link_interval=cfg.smpp.enquire_link_interval,
                        response_timeout=cfg.smpp.response_timeout, bind_timeout=cfg.smpp.bind_timeout)
        assert self.intake is not None
        self.smpp_factory = SmppServerFactory(self.intake, self.reactor, timers, window=cfg.smpp.window,
                                              system_id=cfg.smpp.system_id)
        self._smpp_port = smpp_listen(self.reactor, self.smpp_factory, cfg.smpp.port, cfg.smpp.interface,
                                      cfg.smpp.tls_cert, cfg.smpp.tls_key)
        self.listening.smpp = self._smpp_port.getHost().port
        assert self.dispatcher is not None
        self.dispatcher.start()
        await self._start_admin()
        await self._start_web()
        self.announce(self.banner())
        return self.listening

    async def _start_admin(self) -> None:
        """The manhole and the metrics endpoint (smsgw.app.operations)."""
        from smsgw.app.operations import start_operations

        self.operations = await start_operations(self)

    async def _start_web(self) -> None:
        """The web centre and HTTP API on ``[web] interface:port`` (same process, same intake)."""
        cfg = self.config
        if not cfg.web.enabled:
            return
        from twisted.internet.threads import deferToThreadPool

        from smsgw.store.passwords import hash_password
        from smsgw.web.site import build_site, make_site

        admins = dict(cfg.manhole.users)
        if cfg.gateway.demo:
            admins.setdefault("admin", await deferToThreadPool(self.reactor, self.readers, hash_password, "admin"))
        assert self.intake is not None
        secure = bool(cfg.web.tls_cert) or cfg.web.secure_cookies
        root = build_site(self.store, self.intake, self.reactor, admins=admins, lockout=self.intake.lockout,
                          secure=secure, changed=lambda kind, enterprise_id: self.policies.refresh())
        self._web_port = listen_tcp_or_tls(self.reactor, make_site(root), cfg.web.port, cfg.web.interface,
                                           cfg.web.tls_cert, cfg.web.tls_key, what="web")
        self._ports.append(self._web_port)
        self.listening.web = self._web_port.getHost().port

    async def _resolve_account_routes(self) -> None:
        """``[routing.accounts]`` names accounts by login; the router wants their ids."""
        routes = self.config.routing.accounts
        if not routes or self.dispatcher is None:
            return
        assert self.store is not None
        by_id: dict[int, dict[str, str]] = {}
        for login, groups in routes.items():
            found = await self.store.read(store_accounts.find_login, login)
            if found is None:
                raise ValueError(f"{self.config.source}: routing.accounts.{login}: no such account")
            by_id[found[0].id] = dict(groups)
        self.dispatcher.table = self.config.routing_table(by_id)

    def _every(self, seconds: float, fn: Callable[[], Any]) -> None:
        loop = LoopingCall(fn)
        loop.clock = self.reactor
        self._loops.append(loop)
        loop.start(seconds, now=False).addErrback(lambda f: log.failure("periodic task failed", f))

    def _release_held(self) -> Any:
        assert self.store is not None
        d = self.store.release_held(self.now_ms())
        d.addCallback(lambda n: self.dispatcher.poke() if n and self.dispatcher else None)
        return d

    def _expire(self) -> Any:
        assert self.store is not None
        d = self.store.expire(self.now_ms())
        d.addCallback(lambda n: self.notifier.wake(None) if n and self.notifier else None)
        return d

    def _extension_of(self, account_id: int) -> str | None:
        assert self.carrier_events is not None
        for extension, owner in self.carrier_events.extensions.items():
            if owner == account_id:
                return extension
        return None

    def _link_state(self, name: str, up: bool) -> None:
        if up and self.dispatcher is not None:
            self.dispatcher.poke()

    # ------------------------------------------------------------------ carriers

    def _start_carrier_side(self) -> list[LinkConfig]:
        """SGIP listeners and simulators first: links with port 0 connect to the simulators."""
        cfg = self.config
        for listener in cfg.sgip_listeners:
            factory = SgipListenerFactory(listener, _LateSink(self, listener.name), self.reactor)
            port = self.reactor.listenTCP(listener.port, factory, interface=listener.interface or "127.0.0.1")
            self._ports.append(port)
            self.listening.sgip_listeners[listener.name] = port.getHost().port
        links = list(cfg.links)
        if not cfg.simulators.enabled:
            return links
        sims = cfg.simulators
        rng = random.Random(sims.seed)
        outcomes = (sim_behaviour.Outcome("DELIVRD", sims.delivered_share),
                    sim_behaviour.Outcome("UNDELIV", max(0.0, 1.0 - sims.delivered_share)))
        by_family: dict[str, list[LinkConfig]] = {}
        for link in links:
            if link.port == 0:
                by_family.setdefault(link.protocol[:4], []).append(link)
        for family, family_links in by_family.items():
            accounts = tuple(sim_behaviour.Account(link.login, link.secret, link.sp_number) for link in family_links)
            callback = None
            if family == "sgip":
                listener = next(iter(cfg.sgip_listeners), None)
                if listener is not None:
                    callback = sim_behaviour.CallbackTarget("127.0.0.1", self.listening.sgip_listeners[listener.name],
                                                            listener.login, listener.secret)
            behaviour = sim_behaviour.Behaviour(accounts=accounts, tps=float(sims.tps), receipt_delay=sims.receipt_delay,
                                                outcomes=outcomes, rng=rng, callback=callback,
                                                drop_every=sims.drop_every)
            sim: Any
            if family == "cmpp":
                sim = CmppSimulator(self.reactor, behaviour)
            elif family == "sgip":
                sim = SgipSimulator(self.reactor, behaviour)
            else:
                sim = SmgpSimulator(self.reactor, behaviour)
            port = sim.listen(0, "127.0.0.1")
            self._ports.append(port)
            self.simulators[family] = sim
            self.listening.simulators[family] = port.getHost().port
        return [attrs.evolve(link, port=self.listening.simulators[link.protocol[:4]]) if link.port == 0 else link
                for link in links]

    def _start_sgip_listeners_sinks(self) -> None:
        """Nothing to do: ``_LateSink`` finds its group by name when the SMG first connects."""

    # ------------------------------------------------------------------ demo

    async def _demo_bootstrap(self) -> None:
        store = self.store
        assert store is not None
        found = await store.read(store_accounts.find_login, DEMO_LOGIN)
        now = self.now_ms()
        if found is None:
            account = await store.create_account(DEMO_LOGIN, DEMO_PASSWORD, now, "demo-bootstrap",
                                                 name="Demo enterprise", tps=10_000, max_binds=16,
                                                 extension=DEMO_EXTENSION)
        else:
            account = found[0]
            if account.status is not AccountStatus.ACTIVE:
                await store.set_status(account.id, AccountStatus.ACTIVE, now, "demo-bootstrap")
        price = self.config.policy.default_price
        needed = DEMO_SEGMENTS * max(price, 1)
        if account.balance < needed:
            await store.recharge(account.id, needed - account.balance, now, "demo-bootstrap", "demo balance")
        await store.set_price(account.id, price, now, "demo-bootstrap")
        self._demo_account = account

    # ------------------------------------------------------------------ stop

    def banner(self) -> str:
        scheme = "https" if self.config.web.tls_cert else "http"
        web = (f"  web       {scheme}://{self.config.web.interface}:{self.listening.web}/"
               + ("   (web centre: demo / demo; admin: /admin/login admin / admin)" if self.config.gateway.demo else ""))
        lines = [
            "smsgw is running (demo mode)" if self.config.gateway.demo else "smsgw is running",
            f"  SMPP      {self.config.smpp.interface}:{self.listening.smpp}"
            + ("   (bind as demo / demo)" if self.config.gateway.demo else ""),
            f"  store     {self.config.store_url()}",
        ]
        if self.listening.web:
            lines.append(web)
        for family, port in sorted(self.listening.simulators.items()):
            lines.append(f"  simulator {family} carrier gateway on 127.0.0.1:{port}")
        for name, port in sorted(self.listening.sgip_listeners.items()):
            lines.append(f"  SGIP listener {name} (carrier connects back) on port {port}")
        if self.listening.manhole:
            demo = "   (log in as admin / admin)" if self.config.gateway.demo else ""
            lines.append(f"  manhole   telnet {self.config.manhole.interface} {self.listening.manhole}{demo}")
        if self.listening.manhole_ssh:
            lines.append(f"  manhole   ssh -p {self.listening.manhole_ssh} {self.config.manhole.interface}")
        if self.listening.metrics:
            lines.append(f"  metrics   http://{self.config.metrics.interface}:{self.listening.metrics}/metrics")
        return "\n".join(lines)

    @defer.inlineCallbacks
    def stopService(self) -> Any:
        if self.operations is not None:
            yield self.operations.stop()
        for loop in self._loops:
            if loop.running:
                loop.stop()
        if self._smpp_port is not None:
            yield self._smpp_port.stopListening()
        if self.smpp_factory is not None:
            for conn in list(self.smpp_factory.connections):
                conn.unbind()
            yield _sleep(self.reactor, 0.5)
            for conn in list(self.smpp_factory.connections):
                conn.transport.loseConnection()
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if getattr(self, "policies", None) is not None:
            self.policies.stop()
        yield MultiService.stopService(self)  # link groups: finish or re-queue what is in flight
        for sim in self.simulators.values():
            sim.close()
        for port in self._ports:
            yield port.stopListening()
        if self.notifier is not None:
            self.notifier.stop()
        if self.store is not None:
            yield self.store.stop()  # everything queued is committed
        self.readers.stop()
        if self.opened is not None:
            self.opened.engine.dispose()


def _sleep(reactor: Any, seconds: float) -> defer.Deferred[None]:
    d: defer.Deferred[None] = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


class _LateSink:
    """The SGIP listener's sink: the link group of the same name (created after the listener)."""

    def __init__(self, gateway: GatewayService, name: str) -> None:
        self.gateway = gateway
        self.name = name

    def _group(self) -> Any:
        group = self.gateway.groups.get(self.name)
        if group is None:
            raise LookupError(f"SGIP listener {self.name}: no link group of that name")
        return group

    def report_arrived(self, event: Any) -> Any:
        return self._group().report_arrived(event)

    def mo_arrived(self, event: Any) -> Any:
        return self._group().mo_arrived(event)
