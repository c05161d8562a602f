"""smsgw: an SMS gateway for the Chinese carrier networks, on Twisted."""

__version__ = "0.1.0"
