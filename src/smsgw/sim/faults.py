"""Faults a simulated carrier gateway can put on: spells of silence and throttle storms, early reports.

Connection cuts live in ``Behaviour`` itself (``drop_every``, ``drop_probability``,
``drop_interval``); this module holds the rest, as data the simulator core reads:

* a **silence** (``Behaviour.silences``): a gateway that has stopped answering.
  It still accepts connections and answers logins, but once an SP is logged in
  nothing more goes back to it: submits are not taken (they get no answer),
  keep-alives (ACTIVE_TEST, Active_Test) are not answered, and no report or MO
  is sent.  When the spell ends the gateway answers again and what it queued
  meanwhile goes out;
* a **throttle storm** (``Behaviour.throttle_storms``): every submit is answered
  with the protocol's slow-down code (CMPP Result 8, SGIP Result 11, SMGP
  Status 1), whatever the account's TPS;
* **reports first** (``Behaviour.report_first``): the share of accepted submits
  whose status report is sent before the submit's answer, as some gateways do
  under load.  The answer waits until the SP has acknowledged the report (or
  ``EARLY_ANSWER_WAIT`` seconds at most), so the SP really does see the report
  first, even over SGIP's separate callback connection.

A ``Spell`` is measured from when the simulator began listening; ``parse_spell``
reads the runner's ``START[:LENGTH]`` form.  ``Faults`` is the part of
``core.CarrierSimulator`` that starts spells and times their ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import attrs
from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger

if TYPE_CHECKING:
    from smsgw.sim.behaviour import Behaviour

#: the longest a submit's answer waits for its early report to be acknowledged (seconds)
EARLY_ANSWER_WAIT = 1.0


def _not_negative(_inst: object, attribute: attrs.Attribute, value: float) -> None:  # type: ignore[type-arg]
    if value < 0:
        raise ValueError(f"a spell's {attribute.name} must not be negative, not {value!r}")


def _positive_or_none(_inst: object, attribute: attrs.Attribute, value: float | None) -> None:  # type: ignore[type-arg]
    if value is not None and value <= 0:
        raise ValueError(f"a spell's {attribute.name} must be positive or None, not {value!r}")


@attrs.frozen
class Spell:
    """From ``start`` seconds after the simulator began listening, for ``length`` seconds (None: for good)."""

    start: float = attrs.field(validator=_not_negative)
    length: float | None = attrs.field(default=None, validator=_positive_or_none)

    @property
    def end(self) -> float | None:
        return None if self.length is None else self.start + self.length

    def covers(self, elapsed: float) -> bool:
        end = self.end
        return self.start <= elapsed and (end is None or elapsed < end)


def any_covers(spells: tuple[Spell, ...], elapsed: float) -> bool:
    return any(s.covers(elapsed) for s in spells)


def parse_spell(text: str) -> Spell:
    """``START[:LENGTH]`` in seconds: ``"5:10"`` from 5 s for 10 s, ``"5"`` from 5 s for good."""
    start, colon, length = text.partition(":")
    try:
        return Spell(float(start), float(length) if colon and length else None)
    except ValueError as x:
        raise ValueError(f"spell {text!r} is not START[:LENGTH] in seconds: {x}") from None


class Faults:
    """The fault spells of a simulator (mixed into ``core.CarrierSimulator``, which gives the rest)."""

    behaviour: Behaviour
    log: Logger
    _spell_ends: set[Spell]

    def elapsed(self) -> float:
        raise NotImplementedError

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> IDelayedCall:
        raise NotImplementedError

    def cancel_call(self, call: IDelayedCall) -> None:
        raise NotImplementedError

    def pump(self, account: str) -> None:
        raise NotImplementedError

    @property
    def silent(self) -> bool:
        """In a spell of silence now: logged-in SPs hear nothing, submits are not taken."""
        return self.behaviour.silent(self.elapsed())

    def silence(self, seconds: float | None) -> None:
        """Stop answering from now, for ``seconds`` (None: for good)."""
        self.behaviour.silences = (*self.behaviour.silences, Spell(self.elapsed(), seconds))
        self._arm_spell_ends()

    def throttle_storm(self, seconds: float | None) -> None:
        """Answer every submit with the throttle code from now, for ``seconds`` (None: for good)."""
        self.behaviour.throttle_storms = (*self.behaviour.throttle_storms, Spell(self.elapsed(), seconds))

    def _arm_spell_ends(self) -> None:
        """At the end of each spell of silence to come, send what was queued meanwhile."""
        now = self.elapsed()
        for spell in self.behaviour.silences:
            if spell.end is not None and spell.end > now and spell not in self._spell_ends:
                self._spell_ends.add(spell)
                self.call_later(spell.end - now, self._silence_over)

    def _silence_over(self) -> None:
        if self.silent:
            return
        self.log.info("the spell of silence is over")
        for account in self.behaviour.accounts:
            self.pump(account.name)

    def _answer_after(self, early: list[defer.Deferred[int]], answer: Callable[[], None]) -> None:
        """``answer`` once every early report is answered, or after ``EARLY_ANSWER_WAIT`` at the latest."""
        done = False

        def once(_: object = None) -> None:
            nonlocal done
            if done:
                return
            done = True
            self.cancel_call(timer)
            answer()

        timer = self.call_later(EARLY_ANSWER_WAIT, once)
        defer.DeferredList(early, consumeErrors=True).addCallback(once)
