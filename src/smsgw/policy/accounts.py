"""What the policies need to know about accounts, in memory.

Loaded from the store's ``accounts`` table with the other indexes: whether an
account and its enterprise may send (an enterprise blacklisted for violations
can neither bind nor submit — the bind is refused by the store, a session
already bound is refused here), and where the low-balance alert goes.
"""

from __future__ import annotations

import attrs

from smsgw.domain.model import Account, AccountStatus


@attrs.frozen
class AccountInfo:
    id: int
    login: str
    parent_id: int | None = None
    status: AccountStatus = AccountStatus.ACTIVE
    reserved_phone: str | None = None
    low_balance_threshold: int | None = None

    @property
    def enterprise_id(self) -> int:
        return self.id if self.parent_id is None else self.parent_id

    @classmethod
    def of(cls, account: Account) -> AccountInfo:
        return cls(account.id, account.login, account.parent_id, account.status, account.reserved_phone,
                   account.low_balance_threshold)  # fmt: skip
