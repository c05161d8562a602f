"""Pacing the release of held messages so that the morning does not start with a flood.

At 08:05 everything held overnight becomes due at once.  Released all
together, it would sit in the queue ahead of every new message until the
links had sent it all.  The pacer lets out what a share of the links'
capacity can carry (``rate`` messages per second, with at most one
second's worth at a time), so each page of released messages is queued
among the new traffic of that moment; releases page through the store in
acceptance order and never load what waits into memory.
"""

from __future__ import annotations


class ReleasePacer:
    def __init__(self, rate: float) -> None:
        self.rate = max(0.0, rate)
        self._tokens = 0.0
        self._at: float | None = None

    def allowance(self, now: float) -> int:
        """How many held messages may be released now (seconds in ``now``)."""
        if self._at is None:
            self._at = now
            self._tokens = self.rate
        else:
            elapsed = max(0.0, now - self._at)
            self._at = now
            self._tokens = min(max(self.rate, 1.0), self._tokens + elapsed * self.rate)
        return int(self._tokens)

    def released(self, count: int) -> None:
        self._tokens = max(0.0, self._tokens - count)

    def set_rate(self, rate: float) -> None:
        self.rate = max(0.0, rate)
