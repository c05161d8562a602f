"""What a store operation can fail with, and whose fault it is.

``StoreUnavailable`` and ``StoreBusy`` are temporary: nothing of the operation
was written and the client may retry (SMPP ESME_RSYSERR / ESME_RTHROTTLED).
The others are answers about the operation itself: retrying the same thing
will fail the same way.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of everything the store raises on purpose."""

    temporary = False


class StoreUnavailable(StoreError):
    """The database refused writes for longer than the retry window; nothing was written."""

    temporary = True


class StoreBusy(StoreError):
    """Too many operations are waiting for the writer; refused without trying."""

    temporary = True


class StoreClosed(StoreError):
    """The writer has stopped."""

    temporary = True


class InsufficientBalance(StoreError):
    def __init__(self, enterprise_id: int, needed: int) -> None:
        super().__init__(f"enterprise {enterprise_id}: balance too low for {needed} milli-fen")
        self.enterprise_id = enterprise_id
        self.needed = needed


class QuotaExceeded(StoreError):
    def __init__(self, account_id: int, needed: int) -> None:
        super().__init__(f"sub-account {account_id}: quota too low for {needed} milli-fen")
        self.account_id = account_id
        self.needed = needed


class DuplicateMessage(StoreError):
    """A message with this id is already stored (the id generator or the caller erred)."""


class NotFound(StoreError):
    """The operation names a row that does not exist."""


class InvalidOperation(StoreError):
    """The operation contradicts itself or the stored state (a caller bug)."""


class LedgerMismatch(StoreError):
    """Some balance differs from the sum of its ledger; the store is not consistent."""
