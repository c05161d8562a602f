"""bench/e2e null SMSC: answers every submit_sm at once, sends its receipt, stores nothing.

    .venv/bin/python bench/e2e/null_smsc.py [--port N] [--host 127.0.0.1]

The ceiling of the machine for the load generator: whatever rate the same
generator reaches against this server is what the gateway's figures are
compared with.  Any bind is accepted (transmitter, receiver, transceiver);
each submit_sm or data_sm gets submit_sm_resp with a new message id and
then, on the same connection, a deliver_sm receipt (esm_class 0x04, the
standard receipt text, receipted_message_id and message_state TLVs) built
with our codec, as the gateway's notifier builds its receipts.  Prints
``listening on PORT`` when ready; stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time

from smsgw.codec import Pdu
from smsgw.session.codecs import codec_for

BIND_IDS = {0x00000001, 0x00000002, 0x00000009}
SUBMIT_IDS = {0x00000004: 0x80000004, 0x00000103: 0x80000103}
ENQUIRE_LINK = 0x00000015
UNBIND = 0x00000006


def _head(length: int, command: int, status: int, sequence: int) -> bytes:
    return b"".join(v.to_bytes(4, "big") for v in (length, command, status, sequence))


class NullSmsc(asyncio.Protocol):
    counter = 0  # message ids, shared by all connections of the process (a class attribute by design)

    def __init__(self) -> None:
        self.codec = codec_for("smpp34")
        self.buffer = bytearray()
        self.sequence = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        pos, end = 0, len(buf)
        out: list[bytes] = []
        closing = False
        while end - pos >= 16:
            length = int.from_bytes(buf[pos:pos + 4], "big")
            if end - pos < length:
                break
            frame = bytes(buf[pos:pos + length])
            pos += length
            command = int.from_bytes(frame[4:8], "big")
            sequence = int.from_bytes(frame[12:16], "big")
            if command in SUBMIT_IDS:
                out.extend(self._submit(SUBMIT_IDS[command], sequence))
            elif command in BIND_IDS:
                body = b"nullsmsc\x00"
                out.append(_head(16 + len(body), command | 0x80000000, 0, sequence) + body)
            elif command == ENQUIRE_LINK:
                out.append(_head(16, ENQUIRE_LINK | 0x80000000, 0, sequence))
            elif command == UNBIND:
                out.append(_head(16, UNBIND | 0x80000000, 0, sequence))
                closing = True
            # deliver_sm_resp and anything else: nothing to do
        del buf[:pos]
        if self.transport is not None:
            if out:
                self.transport.write(b"".join(out))
            if closing:
                self.transport.close()

    def _submit(self, resp_command: int, sequence: int) -> list[bytes]:
        NullSmsc.counter += 1
        message_id = f"{NullSmsc.counter:016x}"
        body = message_id.encode() + b"\x00"
        resp = _head(16 + len(body), resp_command, 0, sequence) + body
        stamp = time.strftime("%y%m%d%H%M")
        text = (f"id:{message_id} sub:001 dlvrd:001 submit date:{stamp} done date:{stamp} stat:DELIVRD "
                f"err:000 text:")
        self.sequence = self.sequence % 0x7FFFFFFF + 1
        receipt = self.codec.encode(Pdu("deliver_sm", self.sequence, {
            "service_type": "", "source_addr_ton": 1, "source_addr_npi": 1, "source_addr": "13800138000",
            "dest_addr_ton": 0, "dest_addr_npi": 0, "destination_addr": "", "esm_class": 0x04,
            "protocol_id": 0, "priority_flag": 0, "schedule_delivery_time": "", "validity_period": "",
            "registered_delivery": 0, "replace_if_present_flag": 0, "data_coding": 0, "sm_default_msg_id": 0,
            "short_message": text.encode("ascii"),
            "tlvs": {"receipted_message_id": message_id, "message_state": 2},
        }))  # fmt: skip
        return [resp, receipt]


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(NullSmsc, host, port)
    print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
