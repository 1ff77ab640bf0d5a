"""Signing certificates' PDFs with pyHanko (PAdES B-B, or B-LTA with a timestamp authority), and
checking a signed file's signature.

Only pyHanko's public API: ``signers.SimpleSigner.load`` / ``load_pkcs12_data`` to read the key
files, a ``signers.Signer`` subclass (``LoadedKeySigner``, pyHanko's documented way to sign with a
key of one's own, as its PKCS#11 signer does) that keeps the parsed key, ``PdfSigner.sign_pdf``
(synchronous; pyHanko runs its own event loop) with ``bytes_reserved``, and the validator. The
signed attributes are pyHanko's own choice, so whatever it adds (a timestamp, other CAdES
attributes) is kept.

The key material comes from settings: ``CERTIFICATE_SIGNING_KEY`` + ``CERTIFICATE_SIGNING_CERT``
(PEM or DER paths, optional ``CERTIFICATE_SIGNING_KEY_PASSPHRASE``) plus the chain in
``CERTIFICATE_SIGNING_CHAIN``; or ``CERTIFICATE_SIGNING_PKCS12`` with
``CERTIFICATE_SIGNING_PASSPHRASE``. The loaded signer is kept per process (keyed by those
settings and the files' modification times), so a worker loads the key once.

Signature level: with ``CERTIFICATE_TSA_URL`` empty (the default) a PDF is signed PAdES B-B, which
validates only while the signing certificate is in date. With a timestamp authority (RFC 3161) it
is signed B-LTA: a signature timestamp, the chain and its revocation information (OCSP responses,
CRLs, fetched from the addresses the certificates name) in the document security store, then a
document timestamp. ``pdf_archival_timestamp_renew`` adds a new document timestamp before the last
one's TSA certificate expires (the beat task ``archival_timestamps_renew_task``), so the proof
of existence chains on for as long as it is renewed.

Keys in hardware: with ``CERTIFICATE_PKCS11_MODULE`` and ``CERTIFICATE_PKCS11_KEY_LABEL`` set, the
signer is pyHanko's ``PKCS11Signer`` on the key in the token instead (``certificates.pkcs11``: one
session per process, reopened after a failure; the chain is still ``CERTIFICATE_SIGNING_CHAIN``).
A token that cannot be reached raises ``pkcs11.TokenUnavailableError``, a ``ConnectionError`` the
certificate task retries later.

Anything wrong with the key material raises ``SigningKeyError`` with a sentence staff can act on:
the certificate is then marked failed with that reason instead of being retried in a loop.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

SIGNATURE_FIELD = "AcademySignature"
TIMESTAMP_FIELD = "AcademyTimestamp"


class SigningKeyError(Exception):
    """The signing key or certificate is missing, unreadable, mismatched or expired."""


@dataclass(frozen=True)
class SignatureCheck:
    """What pyHanko's validator says about the first signature of a PDF."""

    signed: bool
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    signer: str = ""
    problem: str = ""
    # The signature covers every byte of the file: nothing was appended after signing (an
    # incremental update leaves the signed revision intact but adds content it does not cover).
    whole_file: bool = False
    readable: bool = True


_lock = threading.Lock()
_cache: dict[tuple, object] = {}


def _hash_algorithm(digest_algorithm: str):
    from cryptography.hazmat.primitives import hashes

    algorithms = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
    if digest_algorithm not in algorithms:
        raise SigningKeyError(_("Unsupported digest algorithm %(name)s.") % {"name": digest_algorithm})
    return algorithms[digest_algorithm]()


def _loaded_key_signer_class():
    from pyhanko.sign import signers

    class LoadedKeySigner(signers.Signer):
        """A signer for a key read from a file, parsed once. pyHanko's ``SimpleSigner`` parses its
        key again for every signature, and cryptography checks an RSA key's consistency as it
        parses it: about 150 ms for RSA-2048 and 700 ms for RSA-3072 on a busy core, against under
        10 ms for the signature itself. Everything but the raw signature (the CMS structure, the
        signed attributes, the mechanism) is pyHanko's own ``Signer``."""

        def __init__(self, *, private_key, signing_cert, cert_registry):
            super().__init__(signing_cert=signing_cert, cert_registry=cert_registry)
            self.private_key = private_key

        async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
            from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            key = self.private_key
            if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
                return key.sign(data, padding.PKCS1v15(), _hash_algorithm(digest_algorithm))
            if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
                return key.sign(data, ec.ECDSA(_hash_algorithm(digest_algorithm)))
            if mechanism == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
                return key.sign(data)
            raise SigningKeyError(
                _("The signing key (%(kind)s) cannot make a %(mechanism)s signature.")
                % {"kind": type(key).__name__, "mechanism": mechanism}
            )

    return LoadedKeySigner


def _paths_key() -> tuple:
    parts = []
    for name in (
        "CERTIFICATE_SIGNING_PKCS12",
        "CERTIFICATE_SIGNING_KEY",
        "CERTIFICATE_SIGNING_CERT",
    ):
        value = str(getattr(settings, name, "") or "")
        mtime = os.path.getmtime(value) if value and os.path.exists(value) else None
        parts.append((name, value, mtime))
    chain = tuple(str(p) for p in _chain_paths())
    passphrases = (
        getattr(settings, "CERTIFICATE_SIGNING_PASSPHRASE", ""),
        getattr(settings, "CERTIFICATE_SIGNING_KEY_PASSPHRASE", ""),
    )
    return (tuple(parts), chain, passphrases)


def _chain_paths() -> list[str]:
    chain = getattr(settings, "CERTIFICATE_SIGNING_CHAIN", []) or []
    if isinstance(chain, str | Path):
        chain = [chain]
    return [str(p) for p in chain if str(p)]


def _require_file(path: str, what: str) -> None:
    if not path:
        raise SigningKeyError(_("No %(what)s is configured (see CERTIFICATE_SIGNING_* settings).") % {"what": what})
    if not os.path.isfile(path):
        raise SigningKeyError(
            _(
                "The %(what)s was not found at %(path)s. Run “python manage.py create_signing_key” for a "
                "development key, or set the CERTIFICATE_SIGNING_* settings."
            )
            % {"what": what, "path": path}
        )


def _signing_chain() -> list:
    """The certificates of ``CERTIFICATE_SIGNING_CHAIN`` (a missing file is logged and skipped)."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.keys import load_certs_from_pemder

    other_certs: list[asn1_x509.Certificate] = []
    for path in _chain_paths():
        if not os.path.isfile(path):
            # The chain is optional: the signature is valid without it, only less easy to trust.
            logger.warning("Certificate chain file %s not found; signing without it.", path)
            continue
        try:
            other_certs.extend(load_certs_from_pemder([path]))
        except (OSError, ValueError) as exc:
            raise SigningKeyError(
                _("The certificate chain file %(path)s could not be read: %(error)s") % {"path": path, "error": exc}
            ) from exc
    return other_certs


def _in_date_check(certificate) -> None:
    """``SigningKeyError`` unless the signing certificate (asn1crypto's) is valid now."""
    now = datetime.datetime.now(datetime.UTC)
    validity = certificate["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    if not (not_before <= now <= not_after):
        raise SigningKeyError(
            _("The signing certificate is valid from %(start)s to %(end)s, not now.")
            % {"start": not_before.date(), "end": not_after.date()}
        )


def _load_signer():
    from cryptography.hazmat.primitives import serialization
    from pyhanko.sign import signers

    other_certs = _signing_chain()
    pkcs12 = str(getattr(settings, "CERTIFICATE_SIGNING_PKCS12", "") or "")
    if pkcs12:
        _require_file(pkcs12, _("PKCS#12 signing file"))
        passphrase = getattr(settings, "CERTIFICATE_SIGNING_PASSPHRASE", "") or ""
        try:
            signer = signers.SimpleSigner.load_pkcs12_data(
                Path(pkcs12).read_bytes(), other_certs=other_certs, passphrase=passphrase.encode() or None
            )
        except Exception as exc:  # pyHanko/cryptography raise several kinds for a bad file or passphrase
            raise SigningKeyError(
                _("The PKCS#12 file %(path)s could not be opened (wrong passphrase or not a PKCS#12 file): %(error)s")
                % {"path": pkcs12, "error": exc}
            ) from exc
    else:
        key_path = str(getattr(settings, "CERTIFICATE_SIGNING_KEY", "") or "")
        cert_path = str(getattr(settings, "CERTIFICATE_SIGNING_CERT", "") or "")
        _require_file(key_path, _("signing key"))
        _require_file(cert_path, _("signing certificate"))
        passphrase = getattr(settings, "CERTIFICATE_SIGNING_KEY_PASSPHRASE", "") or ""
        signer = signers.SimpleSigner.load(
            key_path, cert_path, key_passphrase=passphrase.encode() or None, other_certs=other_certs
        )
        if signer is None:
            raise SigningKeyError(
                _(
                    "The signing key %(key)s or certificate %(cert)s could not be read (not PEM/DER, or the key "
                    "needs a different passphrase)."
                )
                % {"key": key_path, "cert": cert_path}
            )

    # The key must belong to the certificate, and the certificate must be in date.
    private_key = serialization.load_der_private_key(signer.signing_key.dump(), password=None)
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if public_der != signer.signing_cert.public_key.dump():
        raise SigningKeyError(_("The signing key does not belong to the signing certificate (wrong key)."))
    _in_date_check(signer.signing_cert)
    return _loaded_key_signer_class()(
        private_key=private_key, signing_cert=signer.signing_cert, cert_registry=signer.cert_registry
    )


def _token_signer():
    """pyHanko's ``PKCS11Signer`` on the configured key in the token (kept with the session)."""
    from . import pkcs11

    try:
        signer = pkcs11.pades_signer(
            chain=_signing_chain(), certificate_path=str(getattr(settings, "CERTIFICATE_SIGNING_CERT", "") or "")
        )
    except pkcs11.TokenConfigurationError as exc:
        raise SigningKeyError(str(exc)) from exc
    _in_date_check(signer.signing_cert)
    return signer


def signer_get():
    """The configured signer, loaded once per process (reloaded when the settings or files change);
    with PKCS#11 settings, the token's signer (kept with the process's session)."""
    from . import pkcs11

    if pkcs11.pades_configured():
        return _token_signer()
    key = _paths_key()
    with _lock:
        signer = _cache.get(key)
        if signer is None:
            signer = _load_signer()
            _cache.clear()
            _cache[key] = signer
        return signer


def signature_level() -> str:
    """The PAdES baseline level new certificates are signed at: "B-LTA" with a timestamp authority
    configured (``CERTIFICATE_TSA_URL``), else "B-B"."""
    return "B-LTA" if _tsa_url() else "B-B"


def pdf_signature_level(pdf: bytes) -> str:
    """The PAdES baseline level of a signed PDF as stored, for the admin: "B-LTA" (a document
    timestamp over validation data), "B-LT" (validation data, no document timestamp), "B-T" (a
    signature timestamp only), "B-B", or "" for a file with no signature or that cannot be read."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_regular_signatures
        if not signatures:
            return ""
        unsigned = signatures[0].signer_info["unsigned_attrs"]
        timestamped = any(a["type"].native == "signature_time_stamp_token" for a in unsigned) if unsigned else False
        validation_data = "/DSS" in reader.root
        if validation_data and reader.embedded_timestamp_signatures:
            return "B-LTA"
        if validation_data and timestamped:
            return "B-LT"
        return "B-T" if timestamped else "B-B"
    except Exception as exc:  # a damaged or hostile file
        logger.info("Signature level not readable: %s: %s", type(exc).__name__, str(exc)[:200])
        return ""


def _tsa_url() -> str:
    return str(getattr(settings, "CERTIFICATE_TSA_URL", "") or "").strip()


def _timestamper():
    from pyhanko.sign.timestamps import HTTPTimeStamper

    return HTTPTimeStamper(_tsa_url(), timeout=float(getattr(settings, "CERTIFICATE_TSA_TIMEOUT_SECONDS", 10)))


def _tsa_chain_paths() -> list[str]:
    chain = getattr(settings, "CERTIFICATE_TSA_CHAIN", []) or []
    if isinstance(chain, str | Path):
        chain = [chain]
    return [str(p) for p in chain if str(p)]


def _chain_certificates(paths: list[str]) -> list:
    from pyhanko.keys import load_certs_from_pemder

    certificates = []
    for path in paths:
        if os.path.isfile(path):
            try:
                certificates.extend(load_certs_from_pemder([path]))
            except (OSError, ValueError):
                logger.warning("Could not read the certificate chain file %s", path)
    return certificates


def long_term_validation_context(*, fetching: bool = True):
    """The validation context for B-LTA signing and renewal: the self-signed certificates of the
    signing chain and of ``CERTIFICATE_TSA_CHAIN`` as trust roots, the others as intermediates;
    OCSP responses and CRLs fetched from the addresses the certificates name."""
    from pyhanko_certvalidator import ValidationContext

    certificates = _chain_certificates(_chain_paths() + _tsa_chain_paths())
    roots = [c for c in certificates if c.self_signed]
    others = [c for c in certificates if not c.self_signed]
    return ValidationContext(trust_roots=roots, other_certs=others, allow_fetching=fetching)


def pdf_sign(pdf: bytes, *, reason: str = "", location: str = "") -> bytes:
    """Sign ``pdf`` with a PAdES signature (B-B, or B-LTA when a timestamp authority is configured:
    see ``signature_level``); returns the signed file's bytes. With the key in a PKCS#11 token,
    signing holds the process's session (tried again once on a new session after a token error)."""
    from . import pkcs11

    if not pkcs11.pades_configured():
        return _pdf_sign(pdf, reason=reason, location=location)
    try:
        return pkcs11.token_use(lambda session, objects: _pdf_sign(pdf, reason=reason, location=location))
    except pkcs11.TokenConfigurationError as exc:
        raise SigningKeyError(str(exc)) from exc


def _pdf_sign(pdf: bytes, *, reason: str, location: str) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signer_get()
    long_term = bool(_tsa_url())
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None,
        location=location or None,
        **(
            {
                "embed_validation_info": True,
                "use_pades_lta": True,
                "timestamp_field_name": TIMESTAMP_FIELD,
                "validation_context": long_term_validation_context(),
            }
            if long_term
            else {}
        ),
    )
    # Signed in place: the signature is appended to this copy of the PDF rather than to a new one.
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    pdf_signer = signers.PdfSigner(metadata, signer=signer, timestamper=_timestamper() if long_term else None)
    signed = pdf_signer.sign_pdf(
        writer, bytes_reserved=signature_bytes_reserved(signer, timestamped=long_term), in_place=True
    )
    return signed.getvalue()


# Room for an RFC 3161 timestamp token in the signature's unsigned attributes: the token's own
# signed data plus the TSA's certificates (a chain of 3 RSA-4096 certificates is about 6 KB).
TIMESTAMP_TOKEN_BYTES = 8192
# Room for the signer info: the signed attributes (content type, time, digest, the signing
# certificate's hash, algorithm protection) and the signature value (512 bytes for RSA-4096).
SIGNER_INFO_BYTES = 2048


def signature_bytes_reserved(signer, *, timestamped: bool = False) -> int:
    """Room for the CMS signature: its certificates plus a margin for the signed attributes and
    the signature value (and, with a timestamp authority, for the signature timestamp token).
    Saves pyHanko a dry-run signature per PDF to estimate it. pyHanko counts the room in hex
    digits, two per byte of the CMS object. The revocation information goes in the document
    security store, outside the signature, so needs no room here."""
    certificates = [signer.signing_cert, *signer.cert_registry]
    size = sum(len(c.dump()) for c in certificates) + SIGNER_INFO_BYTES
    if timestamped:
        size += TIMESTAMP_TOKEN_BYTES
    return 2 * size


def _latest_document_timestamp(reader):
    timestamps = list(reader.embedded_timestamp_signatures)
    return max(timestamps, key=lambda ts: ts.signed_revision) if timestamps else None


def archival_timestamp_expiry(pdf: bytes) -> datetime.datetime | None:
    """When the TSA certificate of the latest document timestamp of ``pdf`` expires (None for a
    PDF without one: a B-B signature, or a file that is not a PDF)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        latest = _latest_document_timestamp(PdfFileReader(io.BytesIO(pdf), strict=False))
        if latest is None:
            return None
        return latest.signer_cert["tbs_certificate"]["validity"]["not_after"].native
    except Exception as exc:  # a damaged or hostile file: nothing to renew
        logger.warning("Could not read the document timestamps of a PDF: %s: %s", type(exc).__name__, exc)
        return None


def pdf_archival_timestamp_renew(pdf: bytes, *, within_days: int | None = None) -> bytes | None:
    """Extend the archival timestamp chain of a B-LTA ``pdf``: when the TSA certificate of its
    latest document timestamp expires within ``within_days`` (``CERTIFICATE_TIMESTAMP_RENEW_DAYS``,
    365 by default), embed that timestamp's current revocation information and append a new
    document timestamp from the configured TSA (an incremental update: every earlier byte stays).

    Returns the renewed file, or None when there is nothing to do (a B-B PDF, a chain not yet due)
    or nothing it can do (no timestamp authority configured: logged)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers import PdfTimeStamper

    expires = archival_timestamp_expiry(pdf)
    if expires is None:
        return None
    if within_days is None:
        within_days = int(getattr(settings, "CERTIFICATE_TIMESTAMP_RENEW_DAYS", 365))
    if expires - datetime.datetime.now(datetime.UTC) > datetime.timedelta(days=within_days):
        return None
    if not _tsa_url():
        logger.warning(
            "A certificate's archival timestamp expires on %s but no CERTIFICATE_TSA_URL is set to renew it.",
            expires.date(),
        )
        return None
    output = io.BytesIO()
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    PdfTimeStamper(_timestamper()).update_archival_timestamp_chain(
        reader, long_term_validation_context(), in_place=False, output=output
    )
    return output.getvalue()


def _trust_roots():
    return _chain_certificates(_chain_paths() + _tsa_chain_paths())


def _only_long_term_updates_after(status) -> bool:
    """Whether everything appended after the signed revision is long-term validation material
    (pyHanko's diff analysis: the document security store and document timestamps only), as in
    a B-LTA or renewed certificate."""
    from pyhanko.sign.diff_analysis import ModificationLevel

    return getattr(status, "modification_level", None) == ModificationLevel.LTA_UPDATES


def pdf_signature_check(data: bytes) -> SignatureCheck:
    """Validate the first signature embedded in ``data`` (a PDF) with pyHanko.

    ``intact`` means the signed bytes were not changed; ``valid`` that the signature is
    cryptographically sound; ``trusted`` that it chains to the configured CA; ``whole_file`` that
    nothing but long-term validation material (B-LTA's revocation information and document
    timestamps) was appended after it.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_regular_signatures or reader.embedded_signatures
    except Exception as exc:
        # Anything the parser raises on a hostile file: PdfError, ValueError and friends, and a
        # RecursionError for thousands of nested arrays. The visitor gets one clear answer.
        logger.info("Uploaded file not readable as a PDF: %s: %s", type(exc).__name__, str(exc)[:200])
        return SignatureCheck(signed=False, readable=False, problem=_("We could not read this file as a PDF."))
    if not signatures:
        return SignatureCheck(signed=False, problem=_("This PDF has no digital signature."))
    context = ValidationContext(trust_roots=_trust_roots(), allow_fetching=False)
    try:
        status = validate_pdf_signature(signatures[0], signer_validation_context=context)
    except Exception as exc:  # a malformed signature dictionary can raise many kinds of error
        logger.info("Signature validation error: %s: %s", type(exc).__name__, str(exc)[:200])
        return SignatureCheck(signed=True, problem=_("The signature could not be checked."))
    signer_name = ""
    with contextlib.suppress(AttributeError):
        signer_name = status.signing_cert.subject.human_friendly
    coverage = getattr(status, "coverage", None)
    whole_file = coverage == SignatureCoverageLevel.ENTIRE_FILE
    if not whole_file and coverage == SignatureCoverageLevel.ENTIRE_REVISION:
        whole_file = _only_long_term_updates_after(status)
    return SignatureCheck(
        signed=True,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        signer=signer_name,
        whole_file=whole_file,
    )
