"""Baked badges: an Open Badges 3.0 credential carried inside a PNG image.

Open Badges 3.0 (section "Baking"): a PNG carries the credential in one uncompressed ``iTXt``
chunk whose keyword is ``openbadgecredential`` and whose text is the credential (JSON, UTF-8).
A PNG is a signature and a list of chunks (length, type, data, CRC-32); the chunk goes before
``IEND``. Reading stops at the first error and returns nothing rather than raising: the file
check reads images anyone can upload.
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadgecredential"
# A credential is a few kilobytes; an image of the badge stays well under this.
MAX_PNG_BYTES = 5 * 1024 * 1024


class BakingError(ValueError):
    """The image is not a PNG this module can bake."""


def _chunks(png: bytes):
    """(type, data) of each chunk, or BakingError for a damaged file."""
    if not png.startswith(PNG_SIGNATURE):
        raise BakingError("This is not a PNG image.")
    position = len(PNG_SIGNATURE)
    while position < len(png):
        if position + 8 > len(png):
            raise BakingError("The PNG image is cut short.")
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(png):
            raise BakingError("The PNG image is cut short.")
        data = png[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", png[end - 4 : end])
        if zlib.crc32(kind + data) != crc:
            raise BakingError("The PNG image is damaged (a chunk's checksum does not match).")
        yield kind, data
        position = end
        if kind == b"IEND":
            return
    raise BakingError("The PNG image has no end.")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _credential_text(data: bytes) -> bytes | None:
    """The text of an ``openbadgecredential`` iTXt chunk (None for any other iTXt chunk)."""
    keyword, _, rest = data.partition(b"\x00")
    if keyword != KEYWORD or len(rest) < 2:
        return None
    compressed, _method, rest = rest[0], rest[1], rest[2:]
    _language, _, rest = rest.partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    if compressed:
        raise BakingError("The badge's credential is compressed; Open Badges 3.0 bakes it uncompressed.")
    return text


def badge_png_bake(png: bytes, credential_json: bytes) -> bytes:
    """``png`` with the credential baked in (any credential already baked is replaced)."""
    if not isinstance(credential_json, bytes) or not credential_json:
        raise BakingError("The credential to bake must be JSON bytes.")
    out = [PNG_SIGNATURE]
    for kind, data in _chunks(png):
        if kind == b"iTXt" and _credential_text(data) is not None:
            continue
        if kind == b"IEND":
            out.append(_chunk(b"iTXt", KEYWORD + b"\x00\x00\x00\x00\x00" + credential_json))
        out.append(_chunk(kind, data))
    return b"".join(out)


def badge_png_credential(png: bytes) -> bytes | None:
    """The credential baked into ``png`` (the chunk's text, JSON bytes), or None when the file is
    not a readable PNG, carries none, or carries more than one."""
    if len(png) > MAX_PNG_BYTES:
        return None
    try:
        found = [text for kind, data in _chunks(png) if kind == b"iTXt" and (text := _credential_text(data))]
    except BakingError:
        return None
    return found[0] if len(found) == 1 else None
