"""Number blacklists in memory: the global list and each enterprise's own.

The store's ``blacklist`` table (scope 0 global, else an enterprise id) is
loaded into sets of canonical 11-digit numbers; a check is two set lookups.
Changes made through the gateway (an administrator, an unsubscribe reply)
are applied here at once with ``add``/``remove``; changes made elsewhere
arrive through the periodic reload and the audit-log feed.
"""

from __future__ import annotations

from typing import Iterable

GLOBAL = 0


class BlacklistIndex:
    def __init__(self, entries: Iterable[tuple[int, str]] = ()) -> None:
        """``entries``: (scope_id, phone)."""
        self._global: set[str] = set()
        self._scoped: dict[int, set[str]] = {}
        for scope, phone in entries:
            self.add(scope, phone)

    def __len__(self) -> int:
        return len(self._global) + sum(len(s) for s in self._scoped.values())

    def add(self, scope: int, phone: str) -> None:
        if scope == GLOBAL:
            self._global.add(phone)
        else:
            self._scoped.setdefault(scope, set()).add(phone)

    def remove(self, scope: int, phone: str) -> None:
        if scope == GLOBAL:
            self._global.discard(phone)
        else:
            numbers = self._scoped.get(scope)
            if numbers is not None:
                numbers.discard(phone)

    def listed(self, phone: str, enterprise_id: int) -> int | None:
        """The scope that lists ``phone`` for this enterprise (0 global), or None."""
        if phone in self._global:
            return GLOBAL
        numbers = self._scoped.get(enterprise_id)
        if numbers is not None and phone in numbers:
            return enterprise_id
        return None
