"""Token buckets: a rate (per second) with a burst, time passed in.

Used for an account's submission TPS towards us (answered ESME_RTHROTTLED when
empty) and anywhere else a rate must be capped.  Pure: ``now`` is an argument.
"""

from __future__ import annotations

import attrs


@attrs.define
class TokenBucket:
    """``rate`` tokens per second, holding at most ``burst`` (default: one second's worth)."""

    rate: float
    burst: float = 0.0
    _tokens: float = attrs.field(default=-1.0, alias="_tokens")
    _at: float | None = attrs.field(default=None, alias="_at")

    def __attrs_post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("rate must be positive")
        if self.burst <= 0:
            self.burst = max(1.0, self.rate)
        if self._tokens < 0:
            self._tokens = self.burst

    def take(self, now: float, n: float = 1.0) -> bool:
        """Take ``n`` tokens if there are; False (and nothing taken) otherwise."""
        self._refill(now)
        if self._tokens >= n:
            self._tokens -= n
            return True
        return False

    def wait_time(self, now: float, n: float = 1.0) -> float:
        """Seconds until ``n`` tokens are there (0 if they are now)."""
        self._refill(now)
        missing = n - self._tokens
        return 0.0 if missing <= 0 else missing / self.rate

    def set_rate(self, rate: float, burst: float | None = None) -> None:
        """Change the rate (configuration applies without restart); keeps the tokens held."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst and burst > 0 else max(1.0, rate)
        self._tokens = min(self._tokens, self.burst)

    def _refill(self, now: float) -> None:
        if self._at is None:
            self._at = now
            return
        elapsed = now - self._at
        if elapsed > 0:
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
            self._at = now


class BucketMap:
    """One bucket per key (e.g. account id), created on first use with the key's rate."""

    def __init__(self) -> None:
        self._buckets: dict[object, TokenBucket] = {}

    def take(self, key: object, rate: float, now: float) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(rate)
        elif bucket.rate != rate:
            bucket.set_rate(rate)
        return bucket.take(now)
