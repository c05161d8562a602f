"""Fuzz targets of the codec layer: each protocol's ``decode`` and the shared ``Framer``.

Decoding any bytes may only raise ``DecodeError``.  What decodes must encode
again (or refuse with ``EncodeError``: e.g. a 4-byte CMPP 2.0 Success_Id is read
but only the 1-byte form is written), and decoding that must give back the same
PDU; a second encode must give the same bytes.  The single quirk that changes a
PDU on the way: an SMPP response with a non-zero command_status is written
without a body (``error_response_without_body``), so it comes back with no
fields; submit_multi_resp keeps its body (``body_on_error``), and a header-only
one, read as no fields, is written with the body's defaults
(``test_smpp34.test_submit_multi_resp_keeps_its_body_on_errors``).
Byte-exact round trips are not required: the decoders are lenient (text cut at
its first NUL, a missing optional tail, dropped trailing bytes; vectors SGIP-07,
CMPP-27).

The framer is checked against itself: any cutting of a stream into chunks
gives the frames that feeding it byte by byte gives, every frame carries its
own length, and no more than one maximum-size PDU is ever buffered.
"""

from __future__ import annotations

from typing import Callable

from smsgw.codec import Codec, DecodeError, EncodeError, Pdu
from smsgw.protocols import PROTOCOL_IDS
from smsgw.protocols.smgp30 import SPEC_V13
from smsgw.session.codecs import codec_for

from fuzz import stream


def codec_of(name: str) -> Codec:
    """A protocol id, or ``smgp30-v13`` for the SMGP Submit layout of ClientVersion 0x13."""
    if name == "smgp30-v13":
        return _smgp_v13()
    return codec_for(name)


_V13: list[Codec] = []


def _smgp_v13() -> Codec:
    if not _V13:
        _V13.append(Codec(SPEC_V13))
    return _V13[0]


def check_error(codec: Codec, err: DecodeError) -> None:
    """A decode error must name the protocol and, when it asks for an answer, a PDU we can send."""
    assert err.protocol == codec.protocol, err
    assert isinstance(err.status, int) and err.status >= 0, err
    if err.response is not None:
        codec.command_id(err.response)  # KeyError: the error names a PDU this protocol lacks


def expected_after_encode(codec: Codec, pdu: Pdu) -> dict[str, object] | None:
    """The fields ``pdu`` has once encoded and decoded again (None: not predictable, see the module docstring)."""
    command = codec.spec.command(pdu.command)
    if pdu.status and command.is_response and codec.spec.error_response_without_body:
        if not command.body_on_error:
            return {}
        if not pdu.fields:
            return None  # a header-only error read as {}, written with the body's defaults
    return pdu.fields


def check_decode(codec: Codec, data: bytes) -> None:
    try:
        pdu = codec.decode(data)
    except DecodeError as err:
        check_error(codec, err)
        return
    try:
        wire = codec.encode(pdu)
    except EncodeError:
        return
    again = codec.decode(wire)
    assert (again.command, again.sequence, again.status) == (pdu.command, pdu.sequence, pdu.status), (pdu, again)
    expected = expected_after_encode(codec, pdu)
    assert expected is None or again.fields == expected, (pdu, again)
    assert codec.encode(again) == wire, (again, wire)


def decoder(name: str) -> Callable[[bytes], None]:
    """The target of one protocol's decoder; smgp30 also tries the 0x13 layout on the same bytes."""
    names = (name, "smgp30-v13") if name == "smgp30" else (name,)

    def check(data: bytes) -> None:
        for n in names:
            check_decode(codec_of(n), data)

    check.__name__ = f"check_decode_{name}"
    return check


# --------------------------------------------------------------------------- framer

def _feed_all(codec: Codec, chunks: list[bytes]) -> tuple[list[bytes], DecodeError | None]:
    framer = codec.framer()
    frames: list[bytes] = []
    fed = 0
    for chunk in chunks:
        fed += len(chunk)
        try:
            got = framer.feed(chunk)
        except DecodeError as err:
            assert err.fatal, err
            check_error(codec, err)
            assert framer.pending == 0, "a framing error leaves bytes behind"
            return frames, err
        for frame in got:
            assert int.from_bytes(frame[:4], "big") == len(frame), frame[:4]
            assert codec.header_size <= len(frame) <= codec.spec.max_length, len(frame)
        frames.extend(got)
        assert framer.pending < codec.spec.max_length, framer.pending
        # every byte fed is in a frame, skipped while resynchronising, or waiting
        assert sum(map(len, frames)) + framer.skipped + framer.pending == fed
    return frames, None


def check_framer(data: bytes) -> None:
    """Flags bits 3-5 choose the protocol; the stream is cut as ``stream.split`` says."""
    flags, chunks = stream.split(data)
    codec = codec_for(PROTOCOL_IDS[flags.take(3) % len(PROTOCOL_IDS)])
    whole = b"".join(chunks)
    frames, error = _feed_all(codec, chunks)
    one_by_one, error_one = _feed_all(codec, [whole[i:i + 1] for i in range(len(whole))])
    assert (error is None) == (error_one is None), (error, error_one)
    # a framing error drops the frames cut in the same feed: only a prefix can be compared then
    if error is None:
        assert frames == one_by_one
    else:
        assert frames == one_by_one[:len(frames)]
