"""The store: schema, migrations, the writer thread, and the operations it runs.

DESIGN.md §2-6.  SQLite (WAL, synchronous=FULL) or PostgreSQL (psycopg 3).
No Twisted here: ``smsgw.pipeline.storage`` wraps the writer in Deferreds.

    schema      tables and indexes (Core metadata); migrations/ builds them
    migrate     ``upgrade(url)`` — the body of ``smsgw db upgrade``
    db          engines with the durability settings
    writer      the group-commit writer thread
    tx          the transaction operations run in; bulk inserts
    accepting   Accept: message + segments + charge, before the client's ack
    dispatching ReleaseHeld, Hold, ClaimDue, Submitted, SubmitFailed, Requeue
    reporting   RecordReport: carrier reports matched to segments
    lifecycle   shared transition steps; ``finalize`` ends messages
    expiry      Expire: past the validity period → expired, with a receipt
    cancel      Cancel (cancel_sm)
    review      ReviewDecision and the review queue
    outbox      RecordMo, ClaimOutbox, AckOutbox, RetryOutbox
    mo_parts    long MO held until whole for accounts that reassemble; ReleaseStaleParts
    multi       submit_multi: AcceptMember, ClaimDeliveries, one id for all destinations
    accounts    accounts, passwords checks, recharges, prices
    lists       blacklists, keywords, signatures, portability
    ledger      balance changes and the balance == sum(ledger) check
    audit       the audit log
    queries     reading messages and their history back
    recovery    what runs at start after a crash
    startup     ``open_store``: schema check, recovery, writer
"""
