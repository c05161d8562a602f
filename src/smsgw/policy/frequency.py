"""Frequency: how many messages one account may send one number per minute, hour and day.

Counts are per (account, destination) in China's calendar minutes, hours and
days; at local midnight every count starts again, so the whole table is
dropped then (memory holds one day's pairs at most).  ``allowed`` only reads;
``record`` counts a message that goes out (the chain calls it once every
rule has passed the message).  A limit of 0 is no limit.
"""

from __future__ import annotations

from smsgw.policy.china_time import DAY_MS, day_start

_MINUTE = 60_000
_HOUR = 3_600_000


class FrequencyLimiter:
    def __init__(self) -> None:
        self._day = (0, 0)  # [start, end) of the local day counted, epoch ms
        # account → number → [minute, count in it, hour, count in it, count today]
        self._counts: dict[int, dict[str, list[int]]] = {}

    def _table(self, account_id: int, now_ms: int) -> dict[str, list[int]]:
        start, end = self._day
        if not start <= now_ms < end:
            start = day_start(now_ms)
            self._day = (start, start + DAY_MS)
            self._counts = {}
        table = self._counts.get(account_id)
        if table is None:
            table = self._counts[account_id] = {}
        return table

    def exceeded(self, account_id: int, dest: str, now_ms: int, per_minute: int, per_hour: int,
                 per_day: int) -> str | None:
        """Which limit one more message would break ("minute", "hour", "day"), or None."""
        entry = self._table(account_id, now_ms).get(dest)
        if entry is None:
            return None
        if per_minute and entry[0] == now_ms // _MINUTE and entry[1] >= per_minute:
            return "minute"
        if per_hour and entry[2] == now_ms // _HOUR and entry[3] >= per_hour:
            return "hour"
        if per_day and entry[4] >= per_day:
            return "day"
        return None

    def record(self, account_id: int, dest: str, now_ms: int) -> None:
        table = self._table(account_id, now_ms)
        minute, hour = now_ms // _MINUTE, now_ms // _HOUR
        entry = table.get(dest)
        if entry is None:
            table[dest] = [minute, 1, hour, 1, 1]
            return
        if entry[0] == minute:
            entry[1] += 1
        else:
            entry[0], entry[1] = minute, 1
        if entry[2] == hour:
            entry[3] += 1
        else:
            entry[2], entry[3] = hour, 1
        entry[4] += 1
