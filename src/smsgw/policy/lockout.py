"""Lockout after repeated authentication failures (binds, web logins).

Failures are counted per key (a system_id, a peer address) within a sliding
window; at ``limit`` failures the key is locked for ``lock_for`` seconds.  A
success clears the key's failures.  Bounded: at most ``max_keys`` keys are
tracked; the stalest is forgotten first.  Time is passed in.
"""

from __future__ import annotations

from collections import OrderedDict, deque

import attrs


@attrs.frozen
class LockoutRules:
    limit: int = 5
    window: float = 300.0
    lock_for: float = 900.0
    max_keys: int = 100_000


class Lockout:
    def __init__(self, rules: LockoutRules | None = None) -> None:
        self.rules = rules or LockoutRules()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._locked: dict[str, float] = {}

    def locked(self, key: str, now: float) -> bool:
        until = self._locked.get(key)
        if until is None:
            return False
        if now >= until:
            del self._locked[key]
            return False
        return True

    def failed(self, key: str, now: float) -> bool:
        """Record a failure; True when this failure locks the key."""
        rules = self.rules
        times = self._failures.pop(key, None) or deque()
        times.append(now)
        while times and times[0] <= now - rules.window:
            times.popleft()
        self._failures[key] = times
        while len(self._failures) > rules.max_keys:
            self._failures.popitem(last=False)
        if len(times) >= rules.limit:
            self._locked[key] = now + rules.lock_for
            self._failures.pop(key, None)
            if len(self._locked) > rules.max_keys:
                for stale in [k for k, t in self._locked.items() if t <= now]:
                    del self._locked[stale]
            return True
        return False

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def unlock(self, key: str) -> bool:
        """An administrator lifts a lock before its time (and forgets the failures); True if it was locked."""
        self._failures.pop(key, None)
        return self._locked.pop(key, None) is not None

    def locked_keys(self, now: float) -> dict[str, float]:
        """The keys locked at ``now`` and when each lock ends."""
        return {key: until for key, until in self._locked.items() if until > now}
