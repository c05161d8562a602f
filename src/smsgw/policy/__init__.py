"""The rules of the service contract, pure and in memory (DESIGN.md §2-3, §6).

``chain.Chain`` runs them on a message before it is stored: account status,
blacklists, signature, content keywords, range blasting, frequency,
duplicates and the send window, in the configured order
(``settings.PolicySettings``).  Time is passed in (China time from
``china_time``); nothing here touches the store, Twisted or the clock —
``smsgw.pipeline.policies`` keeps the indexes in step with the store and
wires the chain into the intake.  Also here: token buckets (``rate``) and
bind lockout (``lockout``).
"""
