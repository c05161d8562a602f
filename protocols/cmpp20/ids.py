"""CMPP Command_Id values (CMPP 3.0.0 spec 8.7.1; cmpp.md section 3), shared by 2.0 and 3.0.

A response id is its request id with the top bit set.  Only the SP<->ISMG
commands are in the tables; the ISMG<->ISMG and ISMG<->GNS ids are listed here
for reference and decode as unknown commands (status 2, no response).
"""

from __future__ import annotations

from types import MappingProxyType

RESPONSE_BIT = 0x80000000

CONNECT = 0x00000001
TERMINATE = 0x00000002
# 0x00000003 is unused by the spec
SUBMIT = 0x00000004
DELIVER = 0x00000005
QUERY = 0x00000006
CANCEL = 0x00000007
ACTIVE_TEST = 0x00000008

#: not used between SP and ISMG (cmpp.md section 3); hex, hence the gap after 0x09
NOT_SP_ISMG = MappingProxyType({
    0x00000009: "fwd",  # ISMG <-> ISMG
    0x00000010: "mt_route",  # the rest: ISMG <-> GNS
    0x00000011: "mo_route",
    0x00000012: "get_mt_route",
    0x00000013: "mt_route_update",
    0x00000014: "mo_route_update",
    0x00000015: "push_mt_route_update",
    0x00000016: "push_mo_route_update",
    0x00000017: "get_mo_route",
})
