"""An SMPP client we did not write (smpplib), run in a thread, for the operations tests."""

from __future__ import annotations

from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm
from twisted.internet import threads


class Client:
    def __init__(self, port: int) -> None:
        self.c = smpplib.client.Client("127.0.0.1", port, timeout=10, allow_unknown_opt_params=True)
        self.c.set_message_received_handler(lambda pdu: None)

    def _bind(self, login: str, password: str) -> int:
        """The bind_transceiver_resp status (0: bound)."""
        self.c.connect()
        try:
            self.c.bind_transceiver(system_id=login, password=password)
        except smpplib.exceptions.PDUError as error:
            return int(error.args[1])
        return 0

    def bind(self, login: str, password: str) -> Any:
        return threads.deferToThread(self._bind, login, password)

    def _submit(self, dest: str, text: str) -> Any:
        parts, coding, esm = smpplib.gsm.make_parts(text)
        pdu = self.c.send_message(source_addr="1065", destination_addr=dest, short_message=parts[0],
                                  data_coding=coding, esm_class=esm, registered_delivery=True)
        while True:
            resp = self.c.read_pdu()
            if resp.command == "submit_sm_resp" and resp.sequence == pdu.sequence:
                return resp

    def submit(self, dest: str, text: str) -> Any:
        """Fires with the submit_sm_resp."""
        return threads.deferToThread(self._submit, dest, text)

    def _until_closed(self) -> list[str]:
        commands = []
        while True:
            try:
                pdu = self.c.read_pdu()
            except (smpplib.exceptions.ConnectionError, OSError):
                return commands
            commands.append(pdu.command)
            if pdu.command == "unbind":
                self.c.send_pdu(smpplib.smpp.make_pdu("unbind_resp", client=self.c, sequence=pdu.sequence))

    def until_closed(self) -> Any:
        """Read (answering unbind) until the gateway closes the connection; fires with the commands read."""
        return threads.deferToThread(self._until_closed)

    def close(self) -> None:
        try:
            self.c.disconnect()
        except Exception:  # already gone
            pass
