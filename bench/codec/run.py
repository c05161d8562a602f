"""Codec benchmark: decodes and encodes per second on one core.

Typical PDUs: an SMPP submit_sm (UCS2 Chinese, with a receipt request), an SMPP
deliver_sm receipt with TLVs, and a CMPP 3.0 submit.  Prints a table and, with
``--json``, one JSON object.  Target (issue #2): at least 100,000 decodes/s and
100,000 encodes/s of a typical submit_sm.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from typing import Callable

from smsgw.codec import Pdu
from smsgw.session.codecs import codec_for

TEXT = "【示例】您的验证码是 123456，五分钟内有效。".encode("utf-16-be")

CASES: dict[str, tuple[str, Pdu]] = {
    "smpp34 submit_sm": ("smpp34", Pdu("submit_sm", 12345, {
        "service_type": "", "source_addr_ton": 0, "source_addr_npi": 0, "source_addr": "10690001",
        "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "8613800138000", "esm_class": 0,
        "protocol_id": 0, "priority_flag": 0, "schedule_delivery_time": "", "validity_period": "",
        "registered_delivery": 1, "replace_if_present_flag": 0, "data_coding": 8, "sm_default_msg_id": 0,
        "short_message": TEXT,
    })),
    "smpp34 deliver_sm receipt": ("smpp34", Pdu("deliver_sm", 777, {
        "source_addr": "8613800138000", "destination_addr": "10690001", "esm_class": 4, "data_coding": 0,
        "short_message": b"id:0123456789abcdef sub:001 dlvrd:001 submit date:2611212100 done date:2611212101 "
                         b"stat:DELIVRD err:000 text:",
        "tlvs": {"receipted_message_id": "0123456789abcdef", "message_state": 2},
    })),
    "cmpp30 submit": ("cmpp30", Pdu("submit", 99, {
        "msg_id": 0, "pk_total": 1, "pk_number": 1, "registered_delivery": 1, "msg_level": 1, "service_id": "SMS",
        "fee_usertype": 2, "fee_terminal_id": "", "fee_terminal_type": 0, "tp_pid": 0, "tp_udhi": 0, "msg_fmt": 8,
        "msg_src": "900001", "feetype": "02", "feecode": "10", "valid_time": "", "at_time": "",
        "src_id": "106900011234", "dest_terminal_id": ["13800138000"], "dest_terminal_type": 0,
        "msg_content": TEXT, "linkid": "",
    })),
}


def rate(fn: Callable[[], object], seconds: float) -> float:
    n = 0
    batch = 2000
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        n += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per figure")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    results = {}
    for name, (pid, pdu) in CASES.items():
        codec = codec_for(pid)
        # fill defaults for fields a table names differently, so the case stays typical
        data = codec.encode(pdu)
        decoded = codec.decode(data)
        results[name] = {
            "bytes": len(data),
            "decode_per_s": round(rate(lambda: codec.decode(data), args.seconds)),
            "encode_per_s": round(rate(lambda: codec.encode(decoded), args.seconds)),
        }
    report = {"machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
              "results": results}
    if args.json:
        print(json.dumps(report))
        return
    print(f"codec benchmark, one core, {report['machine']}")
    print(f"{'PDU':30} {'bytes':>6} {'decode/s':>12} {'encode/s':>12}")
    for name, r in results.items():
        print(f"{name:30} {r['bytes']:>6} {r['decode_per_s']:>12,} {r['encode_per_s']:>12,}")


if __name__ == "__main__":
    main()
