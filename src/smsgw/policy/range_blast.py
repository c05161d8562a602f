"""Range blasting (号码段 sweeps): many consecutive numbers from one account in a short time.

Sending to 13800000000, 13800000001, 13800000002 … is how unsolicited
advertising walks a number block; the contract forbids it.  Per account the
detector remembers when it last saw each destination (every attempt, refused
ones included, so that a sweep stays refused once found), and a number whose
run of consecutive neighbours seen within ``window_ms`` reaches ``run`` is
refused.  The walk stops at the threshold, so a number without a recent
neighbour costs two dictionary reads.

Memory: two generations of number → time per account; the current one
becomes the previous when it has spanned the window, and the one before is
dropped — nothing older than two windows is kept, and no per-entry expiry
work is done.  Submissions of one batch (submit_multi) arrive here one
destination after the other within milliseconds, so a batch is covered by
the same sliding window.
"""

from __future__ import annotations


class _Recent:
    __slots__ = ("current", "previous", "started")

    def __init__(self, now_ms: int) -> None:
        self.current: dict[int, int] = {}
        self.previous: dict[int, int] = {}
        self.started = now_ms


class RangeDetector:
    def __init__(self) -> None:
        self._accounts: dict[int, _Recent] = {}

    def observe(self, account_id: int, dest: str, now_ms: int, run: int, window_ms: int) -> int:
        """Record ``dest`` and return the length of its run of consecutive recent
        numbers (itself included), counted up to ``run``."""
        try:
            number = int(dest)
        except ValueError:
            return 1
        recent = self._accounts.get(account_id)
        if recent is None:
            recent = self._accounts[account_id] = _Recent(now_ms)
        elif now_ms - recent.started >= window_ms:
            recent.previous, recent.current, recent.started = recent.current, {}, now_ms
        current, previous = recent.current, recent.previous
        current[number] = now_ms
        horizon = now_ms - window_ms
        length = 1
        for step in (-1, 1):
            neighbour = number + step
            while length < run:
                at = current.get(neighbour)
                if at is None:
                    at = previous.get(neighbour)
                if at is None or at <= horizon:
                    break
                length += 1
                neighbour += step
        return length

    def forget_idle(self, now_ms: int, window_ms: int) -> None:
        """Drop accounts that sent nothing for two windows (housekeeping)."""
        for account_id in [a for a, r in self._accounts.items() if now_ms - r.started >= 2 * window_ms]:
            del self._accounts[account_id]
