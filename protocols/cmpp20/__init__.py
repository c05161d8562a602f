"""CMPP 2.0 wire tables (China Mobile; protocol id ``cmpp20``; cmpp.md).

``SPEC`` is what ``smsgw.session.codecs.codec_for("cmpp20")`` compiles.  The
command ids and status tables are shared with ``cmpp30``.
"""

from smsgw.protocols.cmpp20 import ids, status
from smsgw.protocols.cmpp20.pdus import NUMBER_SIZE, REPORT, REPORT_SIZE, SPEC, VERSION

__all__ = ["NUMBER_SIZE", "REPORT", "REPORT_SIZE", "SPEC", "VERSION", "ids", "status"]
