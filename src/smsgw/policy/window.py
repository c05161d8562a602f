"""The send window: when messages may go out, and when held ones are released.

The contract: messages are sent only from 07:00 to 22:30 China time; what
arrives outside is held and released at 08:05 (the next morning, or the same
morning for what arrives after midnight).  Hours are configurable globally
and per account (``PolicySettings.window``, ``AccountPolicy``).

A window is ``[open, close)`` in local minutes: 07:00 is inside, 22:30 is
outside.  ``open > close`` is a window across midnight (22:00-06:00);
00:00-24:00 is always open.  The release time must lie inside the window;
if it does not, the opening is used instead, so that a release never lands
in a closed window.
"""

from __future__ import annotations

import attrs

from smsgw.policy.china_time import DAY_MS, MINUTE_MS, MINUTES_PER_DAY, OFFSET_MS, at_local, local_day, parse_hhmm


@attrs.frozen
class SendWindow:
    open: int  # local minutes, 0-1440
    close: int
    release: int
    always: bool = attrs.field(init=False, default=False)

    def __attrs_post_init__(self) -> None:
        for name in ("open", "close", "release"):
            value = getattr(self, name)
            if not 0 <= value <= MINUTES_PER_DAY:
                raise ValueError(f"window {name} {value} is not a minute of the day")
        if self.open == self.close:
            raise ValueError("a window that opens when it closes is never open; use 00:00-24:00 for always")
        whole_day = {self.open, self.close} == {0, MINUTES_PER_DAY}
        object.__setattr__(self, "always", whole_day)

    @classmethod
    def parse(cls, open: str, close: str, release: str) -> SendWindow:
        return cls(parse_hhmm(open), parse_hhmm(close), parse_hhmm(release))

    def _open_at(self, minute: int) -> bool:
        if self.open < self.close:
            return self.open <= minute < self.close
        return minute >= self.open or minute < self.close

    def is_open(self, now_ms: int) -> bool:
        return self.always or self._open_at(((now_ms + OFFSET_MS) // MINUTE_MS) % MINUTES_PER_DAY)

    def release_after(self, now_ms: int) -> int:
        """When a message held at ``now_ms`` is released: the next release time (after now)."""
        minute = self.release if self._open_at(self.release % MINUTES_PER_DAY) else self.open
        minute %= MINUTES_PER_DAY
        at = at_local(local_day(now_ms), minute)
        return at if at > now_ms else at + DAY_MS

    def held_until(self, send_ms: int) -> int | None:
        """None when a message may go out at ``send_ms``; else its release time."""
        if self.always:
            return None
        minute = ((send_ms + OFFSET_MS) // MINUTE_MS) % MINUTES_PER_DAY
        if self.open < self.close:
            if self.open <= minute < self.close:
                return None
        elif minute >= self.open or minute < self.close:
            return None
        return self.release_after(send_ms)
