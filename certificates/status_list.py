"""W3C Bitstring Status List v1.0: the bitstring's encoding, its bits, and the signed
``BitstringStatusListCredential`` that verifiers fetch.

- **Bits.** Index 0 is the left-most (most significant) bit of the first byte; a set bit means the
  credential with that ``statusListIndex`` is revoked (``statusPurpose`` ``revocation``).
- **Encoding.** ``encodedList`` is the multibase base64url (``u`` prefix, no padding) of the GZIP
  of the whole bitstring (at least 131,072 bits, so 16 KB; all zeros compress to about 150 bytes).
- **The list credential** is built from a list row's current bits and signed like the certificates'
  credentials (``credentials.credential_sign``), with ``ttl`` (milliseconds) telling verifiers how
  long they may keep it: ``STATUS_LIST_MAX_AGE`` seconds, the same as the HTTP ``max-age``.

Nothing here writes to the database: allocating indices and setting bits, in the same transaction
as the certificate's change, is ``certificates.services``' work.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import logging

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext as _

from .credentials import CONTEXT_VC_V2, _timestamp, credential_key, credential_sign, did_web

logger = logging.getLogger(__name__)

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_TYPE = "BitstringStatusList"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
DEFAULT_MAX_AGE = 300  # seconds; the issue asks for at most 300


class StatusListError(ValueError):
    """An encoded list or an index that does not follow the specification; the message says why."""


def status_list_max_age() -> int:
    """How long (seconds) verifiers and HTTP caches may keep the list: at most 300."""
    return min(int(getattr(settings, "STATUS_LIST_MAX_AGE", DEFAULT_MAX_AGE)), DEFAULT_MAX_AGE)


def bitstring_new(size: int) -> bytes:
    if size <= 0 or size % 8:
        raise StatusListError(_("A status list's size must be a positive multiple of 8 bits."))
    return bytes(size // 8)


def bit_get(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise StatusListError(_("Index %(index)s is outside the status list.") % {"index": index})
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def bit_set(bits: bytes, index: int, value: bool = True) -> bytes:
    """``bits`` with bit ``index`` set (or cleared): a new bytes object."""
    if not 0 <= index < len(bits) * 8:
        raise StatusListError(_("Index %(index)s is outside the status list.") % {"index": index})
    data = bytearray(bits)
    mask = 0x80 >> (index % 8)
    data[index // 8] = (data[index // 8] | mask) if value else (data[index // 8] & ~mask)
    return bytes(data)


def encode(bits: bytes) -> str:
    """The ``encodedList`` of a bitstring: ``u`` + base64url, no padding, of its GZIP (mtime 0, so
    the same bits always give the same text)."""
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def decode(encoded: str, *, max_bytes: int = 16 * 1024 * 1024) -> bytes:
    """The bitstring of an ``encodedList`` (the verifier's side of ``encode``); ``StatusListError``
    for anything that is not multibase base64url of a GZIP stream (or inflates beyond ``max_bytes``)."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusListError(_("The encoded list is not multibase base64url (it must start with “u”)."))
    body = encoded[1:]
    try:
        compressed = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except (ValueError, TypeError) as exc:
        raise StatusListError(_("The encoded list is not valid base64url.")) from exc
    try:
        decompressor = gzip.GzipFile(fileobj=io.BytesIO(compressed))
        data = decompressor.read(max_bytes + 1)
    except (OSError, EOFError) as exc:
        raise StatusListError(_("The encoded list is not a GZIP stream.")) from exc
    if not data:
        raise StatusListError(_("The encoded list is empty."))
    if len(data) > max_bytes:
        raise StatusListError(_("The encoded list is larger than any status list this site reads."))
    return data


def status_list_url(list_id: int) -> str:
    """The stable address of a status list credential (each entry's ``statusListCredential``)."""
    return settings.SITE_URL + reverse("certificates:status_list", kwargs={"list_id": list_id})


def status_entry_document(*, list_id: int, index: int, purpose: str = "revocation") -> dict:
    """A credential's ``credentialStatus``: a ``BitstringStatusListEntry`` (index as a string)."""
    url = status_list_url(list_id)
    return {
        "id": f"{url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def status_list_credential_build(status_list) -> dict:
    """The unsigned ``BitstringStatusListCredential`` of a ``StatusList`` row, from its current bits;
    ``validFrom`` is when its bits last changed."""
    url = status_list_url(status_list.pk)
    return {
        "@context": [CONTEXT_VC_V2],
        "id": url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": did_web(),
        "validFrom": _timestamp(status_list.updated_at),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": LIST_TYPE,
            "statusPurpose": status_list.purpose,
            "encodedList": encode(bytes(status_list.bits)),
            "ttl": status_list_max_age() * 1000,
        },
    }


def status_list_etag(status_list) -> str:
    """Changes with the list's bits (its version), the signing key and the site's address."""
    key = credential_key()
    state = f"{status_list.pk}:{status_list.version}:{key.multibase}:{settings.SITE_URL}:{status_list_max_age()}"
    return hashlib.sha256(state.encode()).hexdigest()[:32]


def status_list_credential_signed(status_list) -> dict:
    """The signed list credential, cached per list version (the cache key holds the ETag, which
    changes with every change of the bits, so a cached copy cannot go stale). With the cache
    unreachable it is signed on each request (about 6 ms)."""
    cache_key = f"certificates:status-list:{status_list_etag(status_list)}"
    try:
        cached = cache.get(cache_key)
    except Exception:  # the cache backend's connection errors: sign it afresh
        logger.warning("Status list cache unreachable; signing the list on this request.", exc_info=True)
        cached = None
    if cached is not None:
        return cached
    signed = credential_sign(status_list_credential_build(status_list), created=status_list.updated_at)
    try:
        cache.set(cache_key, signed, timeout=24 * 3600)
    except Exception:
        logger.warning("Status list cache unreachable; the signed list was not kept.", exc_info=True)
    return signed
