"""twistd plugin: ``twistd -n smsgw`` runs the gateway (see smsgw.app.tap)."""

from twisted.application.service import ServiceMaker

smsgw = ServiceMaker(
    "smsgw",
    "smsgw.app.tap",
    "SMS gateway: SMPP towards clients, CMPP/SGIP/SMGP towards carriers",
    "smsgw",
)
