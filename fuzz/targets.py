"""The fuzz targets by name, and where their corpora live (``fuzz/corpus/<name>/``)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import attrs

from smsgw.protocols import PROTOCOL_IDS

from fuzz import carrier_targets, codec_targets, smpp_target, text_target

CORPUS = Path(__file__).resolve().parent / "corpus"


@attrs.frozen
class Target:
    name: str
    check: Callable[[bytes], None]
    what: str
    #: codecs whose generated decoders/encoders the target runs (``codec_targets.codec_of`` names)
    protocols: tuple[str, ...] = ()

    @property
    def corpus(self) -> Path:
        return CORPUS / self.name

    def corpus_files(self) -> list[Path]:
        return sorted(p for p in self.corpus.iterdir() if p.is_file()) if self.corpus.is_dir() else []


def _all() -> dict[str, Target]:
    smgp = ("smgp30", "smgp30-v13")
    targets = [
        Target(f"decode_{p}", codec_targets.decoder(p), f"{p} decode, then encode and decode again",
               smgp if p == "smgp30" else (p,))
        for p in PROTOCOL_IDS
    ]
    targets += [
        Target("framer", codec_targets.check_framer, "the Framer of each protocol, stream cut in chunks"),
        Target("smpp_server", smpp_target.check_smpp_server, "SMPP server session and submit reading",
               ("smpp34",)),
        Target("cmpp_client", carrier_targets.check_cmpp_client, "CMPP 2.0/3.0 client session",
               ("cmpp20", "cmpp30")),
        Target("sgip_client", carrier_targets.check_sgip_client, "SGIP submit link (SP -> SMG)", ("sgip12",)),
        Target("sgip_listener", carrier_targets.check_sgip_listener, "SGIP listener (SMG -> SP)", ("sgip12",)),
        Target("smgp_client", carrier_targets.check_smgp_client, "SMGP 3.0 client session", smgp),
        Target("text", text_target.check_text, "codings, GSM 7-bit, UDH, receipts, SMPP times, ids"),
    ]
    return {t.name: t for t in targets}


TARGETS: dict[str, Target] = _all()
