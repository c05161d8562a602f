"""Interop: PyPI ``pycmpp`` 2.0.2 (an independent CMPP 2.0 client) against our CMPP 2.0 ISMG simulator.

pycmpp runs in a subprocess (it blocks in threads).  It logs in (Version 0x21,
its own AuthenticatorSource, which the simulator verifies), submits UCS2 text,
and answers our ACTIVE_TESTs with its malformed ACTIVE_TEST_RESP (vector
CMPP-27: 13 bytes declared, 16 written).  The simulator sends ACTIVE_TEST after
0.3 s of silence here, so several malformed answers arrive between pycmpp's two
submits; the second submit being read correctly, on the same connection, shows
the stream stayed in step.  pycmpp is killed after the checks.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile

import pytest
import pytest_twisted
from twisted.internet import reactor

from smsgw.sim.behaviour import Account, Behaviour
from smsgw.sim.cmpp import CmppSimulator
from tests.sim.peers import eventually

pytest.importorskip("pycmpp")

SP_ID, SECRET = "901234", "s3cret"

SCRIPT = r"""
import logging, sys, threading
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s", force=True)
from pycmpp.cmpp import Cmpp
host, port, sp_id, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
cmpp = Cmpp(host, port, sp_id, secret, "1065901234", client_heartbeat=False)
threading.Timer(0.5, cmpp.submit, ("你好，世界", ["13800138000"])).start()
threading.Timer(2.0, cmpp.submit, ("第二条 second", ["13800138001", "13800138002"])).start()
cmpp.run()
"""


@pytest.mark.interop
@pytest_twisted.ensureDeferred
async def test_pycmpp_logs_in_submits_and_its_malformed_heartbeat_reply_does_no_harm() -> None:
    sim = CmppSimulator(reactor, Behaviour(
        accounts=[Account(SP_ID, SECRET, "1065901234")], rng=random.Random(1),
        active_test_interval=0.3, response_timeout=0.5, max_sends=2,  # an unmatched reply would close in ~1 s
    ), protocols=("cmpp20",))
    port = sim.listen(0)
    output = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, "127.0.0.1", str(port.getHost().port), SP_ID, SECRET],
        stdout=output, stderr=subprocess.STDOUT,
    )
    try:
        await eventually(lambda: len(sim.received) == 2, timeout=15, what="two submits from pycmpp")
        first, second = sim.received
        assert (first.protocol, first.status, first.account) == ("cmpp20", "accepted", SP_ID)
        assert first.destinations == ("13800138000",) and first.coding == 8 and first.text == "你好，世界"
        assert second.destinations == ("13800138001", "13800138002") and second.text == "第二条 second"
        assert sim.counters["logins"] == 1 and sim.counters["connections"] == 1  # one session throughout
        assert len(sim.connections) == 1
        output.seek(0)
        log = output.read().decode("utf-8", "replace")
        assert log.count("command: 0x8;") >= 2, log  # pycmpp received (and answered) our ACTIVE_TESTs
    finally:
        process.kill()
        process.wait(timeout=5)
        output.close()
        sim.close()
        await port.stopListening()
