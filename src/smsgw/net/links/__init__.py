"""Carrier links: our SP role towards China Mobile (CMPP 2.0/3.0), China Unicom (SGIP 1.2) and China
Telecom (SMGP 3.0) - the Twisted side of DESIGN.md section 3, steps 5 and 6.

``LinkGroup`` (one carrier account: its connections, window, TPS cap) takes
``ClaimedSegment``s and answers each with one ``SendOutcome``; reports and MO go
to a ``LinkObserver``.  ``SgipListenerFactory`` accepts the SMG's own connection
for SGIP reports and MO.  Protocol differences stay in the drivers (``cmpp``,
``sgip``, ``smgp``: sans-IO client sessions behind one ``driver`` interface) and
the submit mapping (``mapping``); ``connection`` is the one Twisted protocol of
every carrier connection, ``slot`` its ClientService, ``inbound`` the way of
reports and MO to the observer, ``reports`` the stat table and the early-report
buffer, ``ratelimit`` the account's token bucket.
"""

from smsgw.net.links.config import CARRIER_TZ, LinkConfig, SgipListenerConfig
from smsgw.net.links.events import LinkObserver, Refused, Requeue, SendOutcome, Submitted, Throttled
from smsgw.net.links.group import LinkGroup, LinkGroupState
from smsgw.net.links.sgip import SgipListenerFactory, listener_service

__all__ = [
    "CARRIER_TZ", "LinkConfig", "LinkGroup", "LinkGroupState", "LinkObserver", "Refused", "Requeue", "SendOutcome",
    "SgipListenerConfig", "SgipListenerFactory", "Submitted", "Throttled", "listener_service",
]
