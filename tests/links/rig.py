"""A link group wired to one of the test carriers over loopback (port 0), and its clean-up."""

from __future__ import annotations

from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred

from smsgw.net.links.events import SendOutcome, Submitted
from smsgw.net.links.group import LinkGroup
from tests.links.carriers import Carrier, listen, wait_for
from tests.links.fixtures import WALL_S, Observer, config


class Rig:
    """``carrier`` listening, ``group`` configured for it, ``observer`` recording; ``close`` undoes it all."""

    def __init__(self, carrier: Carrier, protocol: str) -> None:
        self.carrier = carrier
        self.protocol = protocol
        self.observer = Observer()
        self.port: Any = None
        self.group: LinkGroup = None  # type: ignore[assignment]
        self.extra_ports: list[Any] = []
        self.outcomes: list[SendOutcome] = []

    async def start(self, *, clock: Any = None, start: bool = True, **settings: Any) -> Rig:
        self.port = await listen(self.carrier)
        cfg = config(self.protocol, port=self.port.getHost().port, **settings)
        self.group = LinkGroup(cfg, self.observer, reactor=reactor, clock=clock, wallclock=lambda: WALL_S,
                               extensions=lambda account_id: "01", random=lambda: 0.0)
        if start:
            self.group.startService()
        return self

    def send(self, segment: Any) -> Deferred[SendOutcome]:
        d = self.group.send(segment)

        def record(outcome: SendOutcome) -> SendOutcome:
            self.outcomes.append(outcome)
            if isinstance(outcome, Submitted):
                self.observer.log.append(("submitted", outcome.carrier_msg_id))
            return outcome

        return d.addCallback(record)

    async def up(self, connections: int = 1) -> None:
        await wait_for(lambda: self.group.state.connections >= connections, what="the group to log in")

    async def close(self) -> None:
        try:
            if self.group is not None:
                stopping = self.group.stop()
                await wait_for(lambda: stopping.called, timeout=15, what="the group to stop")
        finally:
            self.carrier.drop_all()
            for port in [self.port, *self.extra_ports]:
                if port is not None:
                    await port.stopListening()
