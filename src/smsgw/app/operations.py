"""The gateway's operations side: the telnet manhole and the metrics endpoint, wired to a running gateway.

``start_operations(gateway)`` is called by ``GatewayService`` once the
pipeline runs.  It listens with the manhole (``[manhole]``: users from the
configuration as argon2 hashes, plus ``admin``/``admin`` in demo mode only;
telnet, and SSH as well when ``ssh = true``) and the Prometheus endpoint (``[metrics]``), counts messages on their way
through the store (``net.metrics.MeteredStore`` put in front of the
pipeline's ``StoreClient``), and returns what ``stop()`` closes again.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import attrs
from twisted.internet import defer
from twisted.internet.interfaces import IListeningPort
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger

from smsgw.admin.helpers import AdminContext, Helpers
from smsgw.admin.manhole import HashedPasswords, manhole_factory
from smsgw.admin.notices import DEFAULT_TEMPLATE
from smsgw.net.metrics import GatewayMetrics, Sources
from smsgw.store.passwords import hash_password, verify_password

log = Logger(namespace="smsgw.app.operations")

DEMO_ADMIN = ("admin", "admin")


@attrs.define
class Operations:
    metrics: GatewayMetrics
    context: AdminContext
    manhole_port: IListeningPort | None = None
    ssh_port: IListeningPort | None = None
    metrics_port: IListeningPort | None = None
    #: manhole user names (for the banner)
    users: tuple[str, ...] = ()

    @defer.inlineCallbacks
    def stop(self) -> Any:
        for port in (self.manhole_port, self.ssh_port, self.metrics_port):
            if port is not None:
                yield port.stopListening()


def sources_of(gateway: Any) -> Sources:
    def connections() -> Any:
        return gateway.smpp_factory.connections if gateway.smpp_factory is not None else ()

    return Sources(dispatcher=lambda: gateway.dispatcher, notifier=lambda: gateway.notifier,
                   carrier_events=lambda: gateway.carrier_events,
                   policies=lambda: getattr(gateway, "policies", None),
                   writer=lambda: gateway.opened.writer if gateway.opened is not None else None,
                   links=lambda: gateway.groups, smpp_connections=connections)


def live_counters(gateway: Any) -> Mapping[str, Mapping[str, Any]]:
    """The manhole's ``counters()``: the same live values the metrics endpoint reads."""
    out: dict[str, Mapping[str, Any]] = {}
    conns = list(gateway.smpp_factory.connections) if gateway.smpp_factory is not None else []
    out["smpp"] = {"connections": len(conns), "bound": sum(1 for c in conns if c.account is not None)}
    if gateway.dispatcher is not None:
        out["dispatcher"] = {**gateway.dispatcher.counters, "in_flight": gateway.dispatcher.in_flight}
    if gateway.carrier_events is not None:
        out["carrier events"] = dict(gateway.carrier_events.counters)
    policies = getattr(gateway, "policies", None)
    if policies is not None:
        out["policies"] = dict(policies.counters)
    if gateway.notifier is not None:
        out["deliver_sm"] = {"sent": gateway.notifier.sent, "acked": gateway.notifier.acked}
    if gateway.opened is not None:
        writer = gateway.opened.writer
        out["store"] = {"pending": writer.pending, "batches": writer.stats.batches,
                        "operations": writer.stats.operations, "failed": writer.stats.failed}
    for name, group in sorted(gateway.groups.items()):
        s = group.state
        out[f"link {name}"] = {"up": s.up, "connections": s.connections, "in_flight": s.in_flight,
                               "queued": s.queued, "tps": s.tps}
    return out


def _instrument(gateway: Any, metrics: GatewayMetrics) -> None:
    """Count messages on their way: the pipeline's store calls go through ``MeteredStore`` from now on."""
    metered = metrics.metered(gateway.store)
    for holder in (gateway, gateway.intake, gateway.dispatcher, gateway.carrier_events,
                   getattr(gateway, "policies", None)):
        if holder is not None:
            holder.store = metered
    if gateway.smpp_factory is not None:
        gateway.smpp_factory.answered = metrics.smpp_answered


async def start_operations(gateway: Any) -> Operations:
    cfg = gateway.config
    reactor = gateway.reactor

    def hash_off_thread(password: str) -> defer.Deferred[str]:
        return deferToThreadPool(reactor, gateway.readers, hash_password, password)

    def verify_off_thread(password_hash: str, password: str) -> defer.Deferred[bool]:
        return deferToThreadPool(reactor, gateway.readers, verify_password, password_hash, password)

    metrics = GatewayMetrics(sources_of(gateway), reactor)
    _instrument(gateway, metrics)
    context = AdminContext(
        store=gateway.store, clock=reactor, ids=gateway.ids, plan=cfg.plan, hash_password=hash_off_thread,
        links=lambda: gateway.groups,
        connections=lambda: gateway.smpp_factory.connections if gateway.smpp_factory is not None else (),
        counters=lambda: live_counters(gateway),
        poke=lambda: gateway.dispatcher.poke() if gateway.dispatcher is not None else None,
        accounts_changed=gateway.carrier_events.refresh_extensions,
        policies=getattr(gateway, "policies", None),
        notice_template=cfg.manhole.notice_template or DEFAULT_TEMPLATE,
        lockout=gateway.intake.lockout if gateway.intake is not None else None,
    )
    ops = Operations(metrics, context)
    if cfg.metrics.enabled:
        ops.metrics_port = reactor.listenTCP(cfg.metrics.port, metrics.site(), interface=cfg.metrics.interface)
        gateway.listening.metrics = ops.metrics_port.getHost().port
    if cfg.manhole.enabled:
        users = dict(cfg.manhole.users)
        if cfg.gateway.demo:
            users.setdefault(DEMO_ADMIN[0], await hash_off_thread(DEMO_ADMIN[1]))
        if not users:
            log.warn("the manhole is enabled but [manhole] users is empty: not listening")
        else:
            checker = HashedPasswords(users, verify_off_thread, decoy=next(iter(users.values())))
            def namespace_for(user: str) -> dict[str, Any]:
                return Helpers(context, f"manhole:{user}").namespace()

            factory = manhole_factory(namespace_for, checker)
            ops.manhole_port = reactor.listenTCP(cfg.manhole.port, factory, interface=cfg.manhole.interface)
            gateway.listening.manhole = ops.manhole_port.getHost().port
            ops.users = tuple(sorted(users))
            if cfg.manhole.ssh:
                from smsgw.admin.ssh import host_key, ssh_factory  # needs twisted[conch] (bcrypt)

                key = host_key(cfg.manhole.ssh_host_key or os.path.join(cfg.gateway.data_dir, "manhole_host_key"))
                ops.ssh_port = reactor.listenTCP(cfg.manhole.ssh_port, ssh_factory(namespace_for, checker, key),
                                                 interface=cfg.manhole.interface)
                gateway.listening.manhole_ssh = ops.ssh_port.getHost().port
    return ops
