"""``smsgw sim <cmpp20|cmpp30|sgip12|smgp30> --port N ...``: run one simulated carrier gateway alone.

``main(argv)`` parses the options, builds the simulator (``build``), listens,
logs a line of counters every ``--stats-interval`` seconds, optionally injects
an MO every ``--mo-interval`` seconds, and runs the reactor until interrupted.
``cmpp20`` speaks CMPP 2.0 only; ``cmpp30`` speaks 3.0 and accepts 2.0 logins
too, as ISMGs do.
"""

from __future__ import annotations

import argparse
import random
import sys
from typing import Any

from twisted.internet.task import LoopingCall
from twisted.logger import Logger, globalLogBeginner, textFileLogObserver

from smsgw.sim.behaviour import Behaviour, CallbackTarget, parse_account, parse_outcomes
from smsgw.sim.cmpp import CmppSimulator
from smsgw.sim.core import CarrierSimulator
from smsgw.sim.faults import Spell, parse_spell
from smsgw.sim.sgip import SgipSimulator
from smsgw.sim.smgp import SmgpSimulator

PROTOCOLS = ("cmpp20", "cmpp30", "sgip12", "smgp30")
#: the carriers' customary ports (protocols/README.md)
DEFAULT_PORTS = {"cmpp20": 7890, "cmpp30": 7890, "sgip12": 8801, "smgp30": 8890}
#: a demo account per protocol: NAME:SECRET:SERVICE_NUMBER (CMPP SP_Id is 6 digits, SMGP ClientID up to 8)
DEFAULT_ACCOUNTS = {
    "cmpp20": "901234:secret:1065901234",
    "cmpp30": "901234:secret:1065901234",
    "sgip12": "smsgw:secret:1065501234",
    "smgp30": "10690123:secret:10690123",
}

log = Logger(namespace="smsgw.sim")


def _host_port(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host, int(port)


def _name_password(text: str) -> tuple[str, str]:
    name, colon, password = text.partition(":")
    if not colon or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME:PASSWORD")
    return name, password


def _spell(text: str) -> Spell:
    try:
        return parse_spell(text)
    except ValueError as x:
        raise argparse.ArgumentTypeError(str(x)) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="smsgw sim", description="Run a simulated carrier gateway.")
    p.add_argument("protocol", choices=PROTOCOLS)
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default: the carrier's customary port; 0: any)")
    p.add_argument("--account", action="append", metavar="NAME:SECRET[:SERVICE_NUMBER[:TPS]]",
                   help="an SP account (repeatable; default: one demo account)")
    p.add_argument("--tps", type=float, help="submits per second per account before the throttle code")
    p.add_argument("--receipt-delay", type=float, default=1.0, metavar="S", help="seconds before a report")
    p.add_argument("--receipt-jitter", type=float, default=0.0, metavar="S", help="random extra delay, 0..S")
    p.add_argument("--outcomes", default="DELIVRD=1", metavar="STAT=WEIGHT[:CODE],...",
                   help="report outcome mix, e.g. DELIVRD=90,UNDELIV=8,EXPIRED=2")
    p.add_argument("--drop-every", type=int, metavar="N", help="drop the connection on every N-th submit")
    p.add_argument("--drop-probability", type=float, default=0.0, metavar="P",
                   help="drop the connection on a submit with probability P")
    p.add_argument("--drop-interval", type=float, metavar="S", help="drop every connection every S seconds")
    p.add_argument("--drop-after-answer", action="store_true",
                   help="answer (accept) the submit before dropping instead of losing it")
    p.add_argument("--silence", type=_spell, action="append", default=[], metavar="START[:LENGTH]",
                   help="stop answering logged-in SPs from START s for LENGTH s (default: for good); repeatable")
    p.add_argument("--throttle-storm", type=_spell, action="append", default=[], metavar="START[:LENGTH]",
                   help="answer every submit with the throttle code from START s for LENGTH s; repeatable")
    p.add_argument("--report-first", type=float, default=0.0, metavar="P",
                   help="send the report of an accepted submit before its answer with probability P")
    p.add_argument("--seed", type=int, help="seed of the random generator (outcomes, drops, jitter)")
    p.add_argument("--window", type=int, default=16, help="our delivers/reports in flight per connection")
    p.add_argument("--response-timeout", type=float, default=60.0, metavar="S")
    p.add_argument("--active-test-interval", type=float, default=180.0, metavar="S", help="CMPP/SMGP keep-alive")
    p.add_argument("--idle-timeout", type=float, default=30.0, metavar="S", help="SGIP: unbind the idle callback")
    p.add_argument("--gateway-code", default="010061", help="CMPP ISMG / SMGP gateway code, 6 digits")
    p.add_argument("--node-id", type=int, default=101001, help="SGIP node id of the SMG")
    p.add_argument("--callback", type=_host_port, metavar="HOST:PORT", help="SGIP: the SP's listener")
    p.add_argument("--callback-login", type=_name_password, metavar="NAME:PASSWORD", default=("smg", "secret"),
                   help="SGIP: our Bind credentials at the SP's listener")
    p.add_argument("--mo-interval", type=float, metavar="S", help="inject an MO every S seconds")
    p.add_argument("--mo-from", default="13800138000", help="handset of the injected MO")
    p.add_argument("--mo-to", help="destination of the injected MO (default: the first account's service number)")
    p.add_argument("--mo-text", default="TD", help="text of the injected MO")
    p.add_argument("--stats-interval", type=float, default=10.0, metavar="S", help="log counters (0: never)")
    return p


def behaviour_from(args: argparse.Namespace) -> Behaviour:
    accounts = [parse_account(a) for a in (args.account or [DEFAULT_ACCOUNTS[args.protocol]])]
    callback = None
    if args.callback is not None:
        callback = CallbackTarget(args.callback[0], args.callback[1], *args.callback_login)
    return Behaviour(
        accounts=accounts, tps=args.tps, receipt_delay=args.receipt_delay, receipt_jitter=args.receipt_jitter,
        outcomes=parse_outcomes(args.outcomes, args.protocol), drop_every=args.drop_every,
        drop_probability=args.drop_probability, drop_interval=args.drop_interval,
        drop_after_answer=args.drop_after_answer, silences=args.silence, throttle_storms=args.throttle_storm,
        report_first=args.report_first,
        rng=random.Random(args.seed), window=args.window, response_timeout=args.response_timeout,
        active_test_interval=args.active_test_interval, idle_timeout=args.idle_timeout,
        gateway_code=args.gateway_code, node_id=args.node_id, callback=callback,
    )


def build(args: argparse.Namespace, reactor: Any) -> CarrierSimulator:
    """The simulator the options describe (not listening yet)."""
    behaviour = behaviour_from(args)
    if args.protocol == "cmpp20":
        return CmppSimulator(reactor, behaviour, protocols=("cmpp20",))
    if args.protocol == "cmpp30":
        return CmppSimulator(reactor, behaviour, protocols=("cmpp20", "cmpp30"))
    if args.protocol == "sgip12":
        return SgipSimulator(reactor, behaviour)
    return SmgpSimulator(reactor, behaviour)


def start(args: argparse.Namespace, reactor: Any) -> tuple[CarrierSimulator, Any]:
    """Build, listen and start the periodic tasks; returns (simulator, listening port)."""
    sim = build(args, reactor)
    port = args.port if args.port is not None else DEFAULT_PORTS[args.protocol]
    listening = sim.listen(port, args.host)
    address = listening.getHost()
    log.info("{protocol} simulator listening on {host}:{port}", protocol=args.protocol, host=address.host,
             port=address.port)
    if args.protocol == "sgip12" and sim.behaviour.callback is None:
        log.warn("no --callback: reports and MO will wait in the queue")
    tasks = []
    if args.stats_interval and args.stats_interval > 0:
        stats = LoopingCall(lambda: log.info("{counters}", counters=sim.snapshot()))
        stats.clock = reactor
        tasks.append((stats, args.stats_interval))
    if args.mo_interval and args.mo_interval > 0:
        first = sim.behaviour.accounts[0]
        destination = args.mo_to or first.service_number

        def mo() -> None:
            sim.inject_mo(args.mo_from, destination, args.mo_text, account=None if args.mo_to else first.name)

        injector = LoopingCall(mo)
        injector.clock = reactor
        tasks.append((injector, args.mo_interval))
    for task, interval in tasks:
        task.start(interval, now=False)

    def stop() -> None:
        for task, _ in tasks:
            if task.running:
                task.stop()
        sim.close()

    reactor.addSystemEventTrigger("before", "shutdown", stop)
    return sim, listening


def main(argv: list[str] | None = None, reactor: Any = None) -> int:
    """Entry point of ``smsgw sim``; runs until interrupted."""
    args = parser().parse_args(argv)
    if reactor is None:
        from twisted.internet import reactor as default_reactor

        reactor = default_reactor
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stdout)],  # type: ignore[list-item]
                                     redirectStandardIO=False)
    try:
        start(args, reactor)
    except Exception as x:  # a bad option value, a port in use
        log.error("cannot start the simulator: {error}", error=str(x))
        return 1
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
