"""What a link group tells the pipeline: one outcome per ``send``, and the observer interface (shared by net.links and pipeline).

Every ``LinkGroup.send`` Deferred fires exactly once, with one of:

* ``Submitted``: the carrier took the segment and gave it ``carrier_msg_id``
  (its reports will name that id); record it per segment.
* ``Throttled``: the carrier said "too fast" (CMPP 8, SGIP 11, SMGP 1). The
  segment was NOT taken; the group has already slowed down; send it again later.
* ``Refused``: the carrier (or our own mapping, ``code`` starting with
  ``local:``) refused it.  ``final`` refusals end the segment (record ``code``
  and ``reason``); non-final ones (e.g. SMGP 75, daily volume exceeded) may
  succeed later or on another link.
* ``Requeue``: we do not know that the carrier took it, and it may be sent
  again: the connection dropped with the segment in flight, no answer after
  N sends, no usable connection within the queue timeout, or the group was
  suspended or stopped.  Delivery to the carrier is at-least-once (DESIGN.md 3.5).

Carrier ids are text in each protocol's canonical form: CMPP 16 hex digits
(``report_cmpp.msg_id_text``), SGIP the Submit's triple as 30 digits
(``sgip_sequence.format_message_id``), SMGP 20 hex digits
(``report_smgp.msg_id_to_text``).
"""

from __future__ import annotations

from typing import Any, Protocol, Union

import attrs

from smsgw.domain.model import MoMessage, Report


@attrs.frozen
class Submitted:
    """The carrier accepted the segment."""

    carrier_msg_id: str
    #: the link group that sent it (``LinkConfig.name``)
    link: str


@attrs.frozen
class Throttled:
    """The carrier asked us to slow down; the segment was not taken."""

    code: str
    reason: str


@attrs.frozen
class Refused:
    """The carrier (or, with ``code`` "local:...", our mapping) refused the segment."""

    code: str
    reason: str
    final: bool = True


@attrs.frozen
class Requeue:
    """Not known to be taken: put the segment back in the queue."""

    reason: str


SendOutcome = Union[Submitted, Throttled, Refused, Requeue]


class LinkObserver(Protocol):
    """What the pipeline implements to hear from the links (reports, MO, link state)."""

    def report(self, report: Report) -> Any:
        """A final status report.  When its submit response had not come yet, the
        report is handed over only after that segment's ``Submitted`` has fired.
        May return a Deferred that fires once the report is durable: the carrier
        gets its answer only then (None: answer at once)."""

    def mo(self, mo: MoMessage) -> Any:
        """A mobile-originated message.  ``id`` is 0 and ``account_id`` None: the
        pipeline gives it an id and finds the account from the extension in ``dest_addr``.
        May return a Deferred, as ``report`` does."""

    def link_state(self, name: str, up: bool) -> None:
        """The group ``name`` went up (a first connection logged in) or down (none left)."""
