"""Wire tables of the five protocols (installed as ``smsgw.protocols``).

Each sub-package holds data only: PDU field tables, command ids, status codes,
TLV tags and golden vectors.  The codec engine in ``smsgw.codec`` compiles them.
"""

PROTOCOL_IDS = ("smpp34", "cmpp20", "cmpp30", "sgip12", "smgp30")
