"""Reports and MO on their way from a link group to the ``LinkObserver``.

Stat words become our states (``reports.state_of_stat``; not-final words go
no further), MO messages become ``MoMessage`` (handset number without "86",
the carrier's coding as the SMPP data_coding our clients get), and reports
that may have overtaken their submit response wait in ``EarlyReports`` until
the group says the response has come (``settle``), or ``early_report_ttl``
has passed.  ``report`` and ``mo`` return what the observer returns for them
(for a held report, a Deferred of its own that follows the observer's once
the report goes up): the connection answers the carrier when it fires.
Observer calls are guarded: an exception in the pipeline is logged and never
breaks the connection that brought the report.
"""

from __future__ import annotations

from typing import Any, Callable

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from smsgw.domain.model import MoMessage, Report
from smsgw.net.links.config import LinkConfig
from smsgw.net.links.driver import MoIn, ReportIn
from smsgw.net.links.events import LinkObserver
from smsgw.net.links.mapping import mo_data_coding, national_number
from smsgw.net.links.reports import EarlyReports, report_time, state_of_stat

ESM_UDHI = 0x40


class Inbound:
    """The group's side of what the carrier pushes; see the module docstring."""

    def __init__(self, config: LinkConfig, observer: LinkObserver, clock: IReactorTime,
                 wall_ms: Callable[[], int], log: Logger) -> None:
        self.config = config
        self.observer = observer
        self.clock = clock
        self.wall_ms = wall_ms
        self.log = log
        self.early = EarlyReports(config.early_report_ttl, config.early_report_limit)
        self._timer: IDelayedCall | None = None
        #: id() of each report held in ``early`` → the Deferred ``report`` returned for it
        self._held: dict[int, Deferred[Any]] = {}

    def report(self, event: ReportIn, *, waits_for_id: bool, barrier: int | None) -> Deferred[Any] | None:
        """A report from the carrier: up now, or held for its id (``waits_for_id``) or its ``barrier``.
        Returns what says when it is stored (see the module docstring)."""
        report = self.to_report(event)
        if report is None:
            return None
        now = self.clock.seconds()
        if waits_for_id or barrier is not None:
            stored: Deferred[Any] = Deferred()
            self._held[id(report)] = stored
            self._deliver(self.early.hold(report, now, barrier=None if waits_for_id else barrier))
            return stored
        return self._deliver([report])

    def settle(self, carrier_ids: list[str], open_from: int | None) -> None:
        """A submit got its outcome: release the reports of ``carrier_ids``, then those whose older submits
        are all answered (``open_from``: the oldest still unanswered, None when there is none)."""
        released: list[Report] = []
        for carrier_id in carrier_ids:
            released += self.early.release_id(carrier_id)
        if len(self.early):
            released += self.early.release_settled(open_from)
        self._deliver(released)

    def mo(self, event: MoIn) -> Deferred[Any] | None:
        mo = MoMessage(
            id=0, carrier=self.config.carrier, source_addr=national_number(event.source),
            dest_addr=event.destination, content=event.content, received_at=self.wall_ms(),
            data_coding=mo_data_coding(event.coding), esm_class=ESM_UDHI if event.udhi else 0,
            account_id=None, link=self.config.name, carrier_msg_id=event.carrier_msg_id,
        )
        try:
            return _deferred(self.observer.mo(mo))
        except Exception:
            self.log.failure("{link}: the observer failed on an MO message", link=self.config.name)
            return None

    def link_state(self, up: bool) -> None:
        try:
            self.observer.link_state(self.config.name, up)
        except Exception:
            self.log.failure("{link}: the observer failed on a link state change", link=self.config.name)

    def drain(self) -> None:
        """Let everything held go (the group is stopping)."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        self._deliver(self.early.drain())

    def to_report(self, event: ReportIn) -> Report | None:
        state = state_of_stat(event.stat, self.config.stat_overrides)
        if state is None:
            self.log.debug("{link}: report {id} says {stat}, not final: ignored", link=self.config.name,
                           id=event.carrier_msg_id, stat=event.stat)
            return None
        return Report(carrier=self.config.carrier, carrier_msg_id=event.carrier_msg_id, state=state,
                      stat=event.stat, received_at=self.wall_ms(), err=event.err or None,
                      submit_at=report_time(event.submit_time), done_at=report_time(event.done_time))

    def _deliver(self, reports: list[Report]) -> Deferred[Any] | None:
        """Hand ``reports`` to the observer; what it returned for the last one (``report``'s answer)."""
        stored = None
        for report in reports:
            try:
                stored = _deferred(self.observer.report(report))
            except Exception:
                self.log.failure("{link}: the observer failed on report {id}", link=self.config.name,
                                 id=report.carrier_msg_id)
                stored = None
            held = self._held.pop(id(report), None)
            if held is not None:
                if stored is None:
                    held.callback(None)
                else:
                    stored.chainDeferred(held)
        self._arm()
        return stored

    def _arm(self) -> None:
        deadline = self.early.next_deadline()
        if self._timer is not None and self._timer.active():
            if deadline is not None and self._timer.getTime() <= deadline:
                return
            self._timer.cancel()
        self._timer = None
        if deadline is not None:
            self._timer = self.clock.callLater(max(0.0, deadline - self.clock.seconds()), self._expired)

    def _expired(self) -> None:
        self._timer = None
        self._deliver(self.early.expire(self.clock.seconds()))


def _deferred(result: Any) -> Deferred[Any] | None:
    """The observer's answer if it is a Deferred (anything else means "stored already")."""
    return result if isinstance(result, Deferred) else None
