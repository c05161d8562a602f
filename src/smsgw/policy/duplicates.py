"""Duplicates: the same text to the same number from the same enterprise within 10 hours.

What is remembered is a hash of (enterprise, number, text) and the time it
was last sent, in two generations of dictionaries: ``current`` takes new
entries; when it has spanned the whole window it becomes ``previous`` and the
one before is dropped.  A lookup is at most two dictionary reads and compares
the exact time, so "within 10 hours" is exact; memory holds at most two
windows' worth of entries, and ``max_entries`` caps it (beyond it, the older
generation is dropped early and some duplicates go unnoticed — the cap is
the price of not holding every text of a busy day).

Only messages that go out are recorded (the chain calls ``record`` after
every rule has passed them).  The index starts empty when the gateway starts.
"""

from __future__ import annotations


class DuplicateIndex:
    def __init__(self, window_ms: int, max_entries: int = 4_000_000) -> None:
        if window_ms <= 0:
            raise ValueError("the duplicate window must be positive")
        self.window_ms = window_ms
        self.max_entries = max(2, max_entries)
        self._current: dict[int, int] = {}
        self._previous: dict[int, int] = {}
        self._started: int | None = None

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)

    @staticmethod
    def key(enterprise_id: int, dest: str, text: str | None) -> int:
        return hash((enterprise_id, dest, text))

    def last_seen(self, key: int, now_ms: int) -> int | None:
        """When this key was last recorded, if that is within the window before ``now_ms``."""
        at = self._current.get(key)
        if at is None:
            at = self._previous.get(key)
        if at is not None and now_ms - at < self.window_ms:
            return at
        return None

    def record(self, key: int, now_ms: int) -> None:
        if self._started is None:
            self._started = now_ms
        elif now_ms - self._started >= self.window_ms or len(self._current) >= self.max_entries // 2:
            self._previous = self._current
            self._current = {}
            self._started = now_ms
        self._current[key] = now_ms
