"""``smsgw sim ...``: options to a simulator, and one real run in a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from datetime import datetime

import pytest_twisted
from twisted.internet.testing import MemoryReactorClock

from smsgw.session.cmpp_client import CmppClientSession, LoggedIn
from smsgw.sim import runner
from smsgw.sim.cmpp import CmppSimulator
from smsgw.sim.sgip import SgipSimulator
from smsgw.sim.smgp import SmgpSimulator
from tests.sim.peers import Peer, connect, eventually


def test_options_build_the_simulator_they_describe() -> None:
    clock = MemoryReactorClock()
    args = runner.parser().parse_args([
        "cmpp20", "--port", "0", "--tps", "50", "--receipt-delay", "2.5", "--outcomes", "DELIVRD=9,UNDELIV=1:MB:0001",
        "--account", "900001:pw:10659", "--drop-every", "100", "--seed", "4",
    ])
    sim = runner.build(args, clock)
    assert isinstance(sim, CmppSimulator) and sim.protocols == ("cmpp20",)
    b = sim.behaviour
    assert (b.tps, b.receipt_delay, b.drop_every) == (50, 2.5, 100)
    assert b.outcomes[1].cmpp_stat == "MB:0001" and b.accounts[0].service_number == "10659"
    assert isinstance(runner.build(runner.parser().parse_args(["smgp30"]), clock), SmgpSimulator)
    sgip = runner.build(runner.parser().parse_args(["sgip12", "--callback", "127.0.0.1:8001",
                                                    "--callback-login", "smg:pw"]), clock)
    assert isinstance(sgip, SgipSimulator)
    assert sgip.behaviour.callback is not None and sgip.behaviour.callback.port == 8001
    assert sgip.behaviour.callback.password == "pw"


def test_start_listens_and_schedules_the_periodic_mo() -> None:
    clock = MemoryReactorClock()
    args = runner.parser().parse_args(["cmpp30", "--port", "0", "--mo-interval", "5", "--stats-interval", "0"])
    sim, _ = runner.start(args, clock)
    assert clock.tcpServers[0][0] == 0 and clock.tcpServers[0][3] == "127.0.0.1"
    clock.advance(5)
    assert sim.queued() == 1  # no SP logged in: the MO waits


@pytest_twisted.ensureDeferred
async def test_the_command_runs_a_simulator_a_client_can_log_in_to() -> None:
    output = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", "smsgw.sim.runner", "cmpp30", "--port", "0",
                                "--account", "901234:pw", "--stats-interval", "0"],
                               stdout=output, stderr=subprocess.STDOUT)
    try:
        def port() -> int | None:
            output.seek(0)
            m = re.search(rb"listening on 127\.0\.0\.1:(\d+)", output.read())
            return int(m.group(1)) if m else None

        number = await eventually(port, timeout=15, what="the simulator to listen")
        peer = Peer(lambda now: CmppClientSession("cmpp30", "901234", "pw", now),
                    start=lambda s, now: s.connect(datetime.now(), now))
        await connect(number, peer)
        await eventually(lambda: peer.of(LoggedIn), what="login")
        peer.close()
    finally:
        process.kill()
        process.wait(timeout=5)
        output.close()
