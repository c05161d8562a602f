"""CMPP 3.0 wire tables (China Mobile; protocol id ``cmpp30``; cmpp.md).

``SPEC`` is what ``smsgw.session.codecs.codec_for("cmpp30")`` compiles.  The
command ids and the status/result tables are those of CMPP 2.0 (the codes are
the same; only their width on the wire changed), re-exported here.
"""

from smsgw.protocols.cmpp20 import ids, status
from smsgw.protocols.cmpp30.pdus import NUMBER_SIZE, REPORT, REPORT_SIZE, SPEC, VERSION

__all__ = ["NUMBER_SIZE", "REPORT", "REPORT_SIZE", "SPEC", "VERSION", "ids", "status"]
