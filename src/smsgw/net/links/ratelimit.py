"""The TPS cap of one carrier account: a token bucket on the reactor's clock.

One ``RateLimiter`` belongs to a ``LinkGroup`` and is shared by all the
connections of its account, since carriers count the account's submits per
second, not the connection's (cmpp.md 1).  ``take`` spends a token or says how
long until the next one; the group calls it again after that delay.

A throttle answer (DESIGN.md 3.5) slows the account down: ``throttled``
multiplies the rate by ``factor`` (never below ``floor``) and holds it there
until ``hold`` seconds pass without another throttle answer, then the
configured rate comes back.  Only the clock's ``seconds()`` is used, so tests
drive it with ``task.Clock``.
"""

from __future__ import annotations

from twisted.internet.interfaces import IReactorTime

_EPSILON = 1e-9


class RateLimiter:
    """Token bucket: ``rate`` tokens per second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: int, clock: IReactorTime, *, factor: float = 0.5,
                 hold: float = 10.0, floor: float = 1.0) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.configured = float(rate)
        self.burst = burst
        self.factor = factor
        self.hold = hold
        self.floor = min(floor, self.configured)
        self._clock = clock
        self._rate = self.configured
        self._tokens = float(burst)
        self._stamp = clock.seconds()
        #: until when the rate stays reduced (None: not throttled), and when it was last reduced
        self.slow_until: float | None = None
        self.slowed_at: float | None = None

    @property
    def rate(self) -> float:
        """The rate in force now (the configured one, or less after a throttle answer)."""
        self._refill(self._clock.seconds())
        return self._rate

    def take(self) -> float:
        """Spend a token and return 0.0, or return the seconds until one is available (nothing spent)."""
        now = self._clock.seconds()
        self._refill(now)
        if self._tokens >= 1.0 - _EPSILON:  # float sums of wait x rate land a hair below 1
            self._tokens = max(0.0, self._tokens - 1.0)
            return 0.0
        return (1.0 - self._tokens) / self._rate

    def give_back(self) -> None:
        """Return a token taken for a submit that was not sent after all."""
        self._tokens = min(float(self.burst), self._tokens + 1.0)

    def throttled(self, sent_at: float | None = None) -> None:
        """The carrier said "too fast": reduce the rate and (re)start the hold period.

        ``sent_at`` is when the throttled submit went out: answers to submits sent
        before the last reduction only extend the hold (a full window throttled at
        once halves the rate once, not sixteen times).
        """
        now = self._clock.seconds()
        self._refill(now)
        if sent_at is None or self.slowed_at is None or sent_at >= self.slowed_at:
            self._rate = max(self.floor, self._rate * self.factor)
            self._tokens = min(self._tokens, 0.0)  # the burst saved up is what overran the carrier
            self.slowed_at = now
        self.slow_until = now + self.hold

    def _refill(self, now: float) -> None:
        if self.slow_until is not None and now >= self.slow_until:
            # tokens up to the end of the slow period accrue at the slow rate
            self._accrue(self.slow_until)
            self._rate = self.configured
            self.slow_until = None
            self.slowed_at = None
        self._accrue(now)

    def _accrue(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
