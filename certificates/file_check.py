"""The check-a-file form's checks: a certificate PDF, a credential (JSON) or a baked badge image
(PNG), told apart by their content, each answered with a verdict and the list of checks that
passed or failed, in plain words. Nothing a file can contain raises: every failure is an answer.

- **PDF:** is it exactly a file we issued (its SHA-256), is its PAdES signature intact and does it
  cover the whole file; then the credential embedded in it (``rendering.credential_embedded``).
- **Credential:** parsed with limits (size, nesting depth), its ``eddsa-rdfc-2022`` proof checked
  against the issuer's keys (``credentials.credential_verify``), matched against the credential we
  stored for its certificate (the same bytes, or the same content reformatted by a wallet), and its
  current status read from our own status list in the database (only our own list's address).
- **PNG:** the credential baked into it (``baking.badge_png_credential``), then as a credential.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from .models import Certificate

logger = logging.getLogger(__name__)

# The answers (verdicts) of the file check; "genuine" is the valid one.
FILE_CHECK_OUTCOMES = ("revoked", "earlier_version", "genuine", "unreadable", "not_issued")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A credential is a few kilobytes (ours about 3 KB); anything far larger is not one of ours, and
# is refused before any JSON-LD processing.
MAX_CREDENTIAL_JSON_BYTES = 256 * 1024
# Ours nest six levels deep; JSON-LD processing recurses once per level.
MAX_CREDENTIAL_DEPTH = 32


@dataclass(frozen=True)
class Check:
    """One check: its short ``label``, whether it ``passed`` (None: not checked, because an
    earlier check failed), and a plain sentence saying what was found."""

    label: str
    passed: bool | None
    sentence: str


@dataclass
class FileCheckResult:
    """What the file check found: the kind of file, the verdict (``outcome``, one of
    ``FILE_CHECK_OUTCOMES``) with its headline and explanation, and every check made."""

    kind: str  # "pdf", "credential", "badge" or "unknown"
    outcome: str = "unreadable"
    headline: str = ""
    explanation: str = ""
    checks: list[Check] = field(default_factory=list)
    certificate: Certificate | None = None
    version: object | None = None
    signature: object | None = None

    @property
    def good(self) -> bool:
        return self.outcome == "genuine"


def _date(value) -> str:
    return dateformat.format(timezone.localtime(value), "j F Y") if value else ""


# --- Telling files apart -----------------------------------------------------------------------


def file_kind(data: bytes, name: str = "") -> str:
    """ "pdf", "badge" (PNG), "credential" (JSON) or "unknown", from the content first and the name
    only when the content says nothing (an unreadable file named .pdf is answered as a PDF)."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(PNG_SIGNATURE):
        return "badge"
    stripped = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"{", b"[")):
        return "credential"
    lowered = (name or "").lower()
    for suffix, kind in ((".pdf", "pdf"), (".png", "badge"), (".json", "credential"), (".jsonld", "credential")):
        if lowered.endswith(suffix):
            return kind
    return "unknown"


# --- Credentials -------------------------------------------------------------------------------


class CredentialUnreadable(ValueError):
    """The bytes are not a credential this check can read; the message says why."""


def _depth_exceeds(value, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def credential_parse(data: bytes) -> dict:
    """The credential in ``data`` as a dict, or ``CredentialUnreadable`` saying why not."""
    if len(data) > MAX_CREDENTIAL_JSON_BYTES:
        raise CredentialUnreadable(
            _("The file is larger than any credential we issue (%(size)s KB at most).")
            % {"size": MAX_CREDENTIAL_JSON_BYTES // 1024}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CredentialUnreadable(_("The file is not text in UTF-8, so it is not a credential.")) from exc
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise CredentialUnreadable(_("The JSON is nested far deeper than any credential.")) from exc
    except ValueError as exc:  # JSONDecodeError, or an integer too long to read
        raise CredentialUnreadable(_("The file is not valid JSON, so it is not a credential.")) from exc
    if not isinstance(document, dict):
        raise CredentialUnreadable(_("The JSON is not an object, so it is not a credential."))
    if _depth_exceeds(document, MAX_CREDENTIAL_DEPTH):
        raise CredentialUnreadable(_("The JSON is nested far deeper than any credential."))
    return document


@dataclass(frozen=True)
class _Record:
    """The credential we stored that a checked one claims to be, and its status."""

    certificate: Certificate
    version: object | None  # a CertificateVersion when it is a superseded version's credential
    stored: dict | None
    stored_sha256: str
    revoked_bit: bool | None  # None: the status could not be read


def _own_status_list(url) -> int | None:
    """The id of our status list at ``url``, or None when it is not one of our own lists' addresses."""
    from .status_list import status_list_url

    if not isinstance(url, str) or not url.startswith(settings.SITE_URL + "/"):
        return None
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    if match.view_name != "certificates:status_list":
        return None
    list_id = match.kwargs.get("list_id")
    return list_id if isinstance(list_id, int) and status_list_url(list_id) == url else None


def _status_entry(document: dict) -> tuple[int, int] | None:
    """(list id, index) of the credential's status entry on one of our lists, or None."""
    status = document.get("credentialStatus")
    if isinstance(status, list) and len(status) == 1:
        status = status[0]
    if not isinstance(status, dict) or status.get("type") != "BitstringStatusListEntry":
        return None
    if status.get("statusPurpose") != "revocation":
        return None
    index = status.get("statusListIndex")
    if not isinstance(index, str) or not index.isdigit() or len(index) > 9:
        return None
    list_id = _own_status_list(status.get("statusListCredential"))
    return None if list_id is None else (list_id, int(index))


def _record_find(document: dict, raw_sha256: str) -> _Record | None:
    """The stored credential ``document`` claims to be: through its status entry on our list
    (indexed), or else by the hash of its bytes."""
    from .selectors import certificate_by_credential_sha256, certificate_version_get, status_entry_record
    from .status_list import StatusListError, bit_get

    located = _status_entry(document)
    if located is not None:
        entry = status_entry_record(list_id=located[0], index=located[1])
        if entry is None or entry.certificate is None:
            return None
        certificate = entry.certificate
        try:
            bit = bit_get(bytes(entry.status_list.bits), entry.index)
        except StatusListError:
            bit = None
        if entry.certificate_version == certificate.version and certificate.status_entry_id == entry.pk:
            return _Record(certificate, None, certificate.credential, certificate.credential_sha256, bit)
        version = certificate_version_get(certificate_id=certificate.pk, version=entry.certificate_version)
        if version is None or version.status_entry_id != entry.pk:
            return None  # an index handed to an attempt that lost: no credential was issued with it
        return _Record(certificate, version, version.credential, version.credential_sha256, bit)
    certificate, version = certificate_by_credential_sha256(sha256=raw_sha256)
    if certificate is None:
        return None
    held = version or certificate
    return _Record(certificate, version, held.credential, held.credential_sha256, None)


def _credential_checks(data: bytes, *, inside: str, expected: tuple | None = None) -> tuple[list[Check], dict]:
    """The checks of a credential's bytes. ``inside``: "pdf", "badge" or "credential" (the words
    change). ``expected``: for a credential embedded in a PDF we issued, (sha256s it must have).

    Returns the checks and a summary: ``readable``, ``proof``, ``record`` (a ``_Record`` or None),
    ``issued`` (it is the credential we stored), ``status`` ("valid", "revoked", "replaced" or
    None), and ``problem`` (the first failure's sentence)."""
    from .credentials import credential_verify

    summary = {"readable": False, "proof": False, "record": None, "issued": False, "status": None, "problem": ""}
    checks: list[Check] = []
    label_read = _("Credential inside the PDF") if inside == "pdf" else _("Readable credential")
    try:
        document = credential_parse(data)
    except CredentialUnreadable as exc:
        checks.append(Check(label_read, False, str(exc)))
        summary["problem"] = str(exc)
        return checks, summary
    summary["readable"] = True
    if inside == "pdf":
        checks.append(Check(label_read, True, _("The PDF carries a credential (credential.json) we could read.")))
    elif inside == "badge":
        checks.append(Check(label_read, True, _("The image carries a credential we could read.")))
    else:
        checks.append(Check(label_read, True, _("The file is a JSON credential we could read.")))

    try:
        verdict = credential_verify(document)
    except Exception as exc:  # credential_verify answers rather than raises; this is a last guard
        logger.warning("Credential check raised %s", type(exc).__name__, exc_info=True)
        verdict = None
    label_proof = _("Issuer's proof")
    if verdict is None or not verdict.valid:
        problem = verdict.problem if verdict is not None else _("The credential's proof could not be checked.")
        checks.append(Check(label_proof, False, problem))
        not_checked = _("Not checked: the proof failed, so nothing the credential says can be relied on.")
        checks.append(Check(_("Issued by us"), None, not_checked))
        checks.append(Check(_("Current status"), None, not_checked))
        summary["problem"] = problem
        return checks, summary
    summary["proof"] = True
    checks.append(
        Check(
            label_proof,
            True,
            _(
                "The proof is intact and was made with one of our keys: the credential has not been changed since we signed it."
            ),
        )
    )

    raw_sha256 = hashlib.sha256(data).hexdigest()
    record = _record_find(document, raw_sha256)
    summary["record"] = record
    label_issued = _("Issued by us")
    if record is None or record.stored is None:
        sentence = _("We have no record of issuing this credential, although it carries a proof made with our key.")
        checks.append(Check(label_issued, False, sentence))
        checks.append(Check(_("Current status"), None, _("Not checked: we have no record of this credential.")))
        summary["problem"] = sentence
        return checks, summary
    same_bytes = raw_sha256 == record.stored_sha256
    same_content = same_bytes or document == record.stored
    if expected is not None and raw_sha256 not in expected:
        same_content = False
    code = record.certificate.verification_code
    if not same_content:
        sentence = (
            _("The credential inside this PDF is not the one we issued with this certificate file.")
            if expected is not None
            else _("It differs from the credential we issued for certificate %(code)s.") % {"code": code}
        )
        checks.append(Check(label_issued, False, sentence))
        summary["problem"] = sentence
    else:
        summary["issued"] = True
        if same_bytes:
            sentence = _("It is, byte for byte, the credential we issued for certificate %(code)s.") % {"code": code}
        else:
            sentence = _(
                "It is the credential we issued for certificate %(code)s (laid out differently, as wallets do, "
                "with the same content)."
            ) % {"code": code}
        if record.version is not None:
            sentence += " " + _("It was issued with version %(number)s of the certificate.") % {
                "number": record.version.version
            }
        checks.append(Check(label_issued, True, sentence))

    label_status = _("Current status")
    certificate = record.certificate
    if certificate.status == Certificate.Status.REVOKED:
        summary["status"] = "revoked"
        checks.append(
            Check(
                label_status,
                False,
                _("Revoked: certificate %(code)s was revoked on %(date)s, and our status list says so.")
                % {"code": code, "date": _date(certificate.revoked_at)},
            )
        )
    elif record.version is not None:
        summary["status"] = "replaced"
        checks.append(
            Check(
                label_status,
                False,
                _(
                    "No longer valid: this credential was replaced on %(date)s by the credential of a corrected "
                    "version of certificate %(code)s, and our status list marks it as revoked."
                )
                % {"code": code, "date": _date(record.version.superseded_at)},
            )
        )
    elif record.revoked_bit:
        summary["status"] = "revoked"
        checks.append(Check(label_status, False, _("Revoked: our status list marks this credential as revoked.")))
    elif record.revoked_bit is None:
        checks.append(
            Check(
                label_status,
                False,
                _("We cannot vouch for its status: it does not point at a status list of ours that we could read."),
            )
        )
        summary["problem"] = summary["problem"] or checks[-1].sentence
    else:
        summary["status"] = "valid"
        checks.append(Check(label_status, True, _("Valid: it has not been revoked (checked on our status list now).")))
    return checks, summary


def credential_file_check(data: bytes, *, kind: str = "credential") -> FileCheckResult:
    """Check a credential (``kind`` "credential") or the credential baked into a PNG ("badge")."""
    result = FileCheckResult(kind=kind)
    if kind == "badge":
        from .baking import badge_png_credential

        baked = badge_png_credential(data)
        if baked is None:
            result.outcome = "unreadable"
            result.headline = _("This image carries no credential")
            result.explanation = _(
                "A badge image we issue carries its credential inside it, as Open Badges 3.0 describes. This image "
                "has none we can read, so there is nothing to check. If you have the certificate's verification "
                "code, check the code instead."
            )
            result.checks.append(Check(_("Credential inside the image"), False, _("This image carries no credential.")))
            return result
        data = baked
        result.checks.append(
            Check(_("Credential inside the image"), True, _("The image carries a baked Open Badges credential."))
        )
    checks, summary = _credential_checks(data, inside=kind)
    result.checks.extend(checks)
    record = summary["record"]
    if record is not None:
        result.certificate, result.version = record.certificate, record.version
    if not summary["readable"]:
        result.outcome = "unreadable"
        result.headline = _("We could not read this file as a credential")
        result.explanation = (
            summary["problem"]
            + " "
            + _(
                "Our credentials are JSON files (Open Badges 3.0). If you have the certificate's verification code, "
                "check the code instead."
            )
        )
    elif not summary["issued"]:
        result.outcome = "not_issued"
        result.headline = _("This credential is not one we issued")
        result.explanation = summary["problem"]
    elif summary["status"] == "revoked":
        result.outcome = "revoked"
        result.headline = _("This credential has been revoked")
        result.explanation = _(
            "It is the credential of certificate %(code)s, which has been revoked: it is no longer valid."
        ) % {"code": record.certificate.verification_code}
    elif summary["status"] == "replaced":
        result.outcome = "earlier_version"
        result.headline = _("This credential belongs to an earlier version of a certificate")
        result.explanation = _(
            "It was issued with version %(number)s of certificate %(code)s, which was replaced by a corrected "
            "version on %(date)s."
        ) % {
            "number": record.version.version,
            "code": record.certificate.verification_code,
            "date": _date(record.version.superseded_at),
        }
    elif summary["status"] == "valid":
        result.outcome = "genuine"
        result.headline = _("This credential is genuine and valid")
        result.explanation = _(
            "We issued it to %(name)s (certificate %(code)s); its proof is intact and it has not been revoked."
        ) % {"name": record.certificate.learner_name, "code": record.certificate.verification_code}
    else:
        result.outcome = "not_issued"
        result.headline = _("We cannot vouch for this credential")
        result.explanation = summary["problem"]
    return result


# --- PDF ---------------------------------------------------------------------------------------


def file_check_outcome(*, certificate, version, signature) -> str:
    """Which answer a checked PDF gets. A revoked certificate is revoked in every version; only
    bytes identical to the current issued file with an intact signature are "genuine"; a file we
    did not issue is "not issued" whatever its signature says (an incremental update appended to
    a genuine file keeps the signed revision intact, and must not read as reassurance)."""
    if certificate is not None and certificate.status == Certificate.Status.REVOKED:
        return "revoked"
    if certificate is not None and version is not None:
        return "earlier_version"
    if certificate is not None and signature.intact and signature.valid:
        return "genuine"
    if not signature.readable:
        return "unreadable"
    return "not_issued"


def _signature_check(outcome: str, signature) -> Check:
    label = _("Digital signature")
    if not signature.signed:
        return Check(label, False, signature.problem)
    ours = outcome in ("genuine", "earlier_version", "revoked")
    broken = _("The digital signature is broken: the file was changed after it was signed.")
    if ours:
        if signature.intact and signature.valid:
            sentence = _(
                "The digital signature is intact: the signed content has not been changed since it was signed."
            )
            if signature.signer:
                sentence += " " + _("Signed by: %(signer)s.") % {"signer": signature.signer}
            return Check(label, True, sentence)
        return Check(label, False, f"{broken} {signature.problem}".strip())
    if signature.intact and signature.valid and not signature.whole_file:
        return Check(
            label,
            False,
            _(
                "Something was added to this file after it was signed. The signature covers only the part before "
                "the addition, so it says nothing about what the file shows now: this is not the file that was "
                "issued."
            ),
        )
    if signature.intact and signature.valid:
        return Check(
            label,
            False,
            _(
                "The file carries a digital signature, but that does not make it one of our certificates: it is not a file we issued."
            ),
        )
    return Check(label, False, f"{broken} {signature.problem}".strip())


def pdf_file_check(data: bytes) -> FileCheckResult:
    from .rendering import credential_embedded
    from .selectors import certificate_by_sha256
    from .signing import pdf_signature_check

    result = FileCheckResult(kind="pdf")
    certificate, version = certificate_by_sha256(sha256=hashlib.sha256(data).hexdigest())
    signature = pdf_signature_check(data)
    outcome = file_check_outcome(certificate=certificate, version=version, signature=signature)
    result.outcome, result.certificate, result.version, result.signature = outcome, certificate, version, signature
    if outcome == "unreadable":
        result.headline = _("We could not read this file as a PDF")
        result.explanation = _(
            "This file is not a certificate we issued: it is damaged, or not a PDF at all. Our certificates are PDF "
            "files; if you have the certificate's verification code, check the code instead."
        )
        result.checks.append(Check(_("Readable PDF"), False, _("We could not read this file as a PDF.")))
        return result

    label_file = _("The file we issued")
    if certificate is None:
        result.checks.append(Check(label_file, False, _("It is not identical to any certificate file we issued.")))
    elif version is not None:
        result.checks.append(
            Check(
                label_file,
                True,
                _("It is exactly version %(number)s of certificate %(code)s, byte for byte.")
                % {"number": version.version, "code": certificate.verification_code},
            )
        )
    else:
        result.checks.append(
            Check(
                label_file,
                True,
                _("It is exactly the file of certificate %(code)s, byte for byte.")
                % {"code": certificate.verification_code},
            )
        )
    result.checks.append(_signature_check(outcome, signature))

    embedded = credential_embedded(data)
    held = version or certificate
    if embedded is None:
        if held is not None and not held.credential_sha256:
            result.checks.append(
                Check(
                    _("Credential inside the PDF"),
                    None,
                    _("This certificate was issued before our certificates carried a digital credential."),
                )
            )
        else:
            result.checks.append(
                Check(_("Credential inside the PDF"), False, _("The PDF carries no credential we could read."))
            )
    else:
        expected = (held.credential_sha256,) if held is not None and held.credential_sha256 else None
        checks, summary = _credential_checks(embedded, inside="pdf", expected=expected)
        result.checks.extend(checks)
        if certificate is None and summary["issued"]:
            result.checks.append(
                Check(
                    _("What the PDF shows"),
                    False,
                    _(
                        "The credential inside is one we issued, but the PDF around it is not a file we issued: what "
                        "it shows may differ from what the credential says. Check the credential on its own, or the "
                        "certificate's verification code."
                    ),
                )
            )

    code = certificate.verification_code if certificate is not None else ""
    if outcome == "revoked":
        result.headline = _("This certificate has been revoked")
        if version is not None:
            result.explanation = _(
                "The file is exactly version %(number)s of certificate %(code)s. That certificate was revoked on "
                "%(date)s: no version of it is valid any more."
            ) % {"number": version.version, "code": code, "date": _date(certificate.revoked_at)}
        else:
            result.explanation = _(
                "The file is exactly certificate %(code)s, but it was revoked on %(date)s and is no longer valid."
            ) % {"code": code, "date": _date(certificate.revoked_at)}
    elif outcome == "earlier_version":
        result.headline = _("This is an earlier version of a certificate")
        result.explanation = _(
            "The file is exactly version %(number)s of certificate %(code)s, which was replaced by a corrected "
            "version on %(date)s."
        ) % {"number": version.version, "code": code, "date": _date(version.superseded_at)}
    elif outcome == "genuine":
        result.headline = _("This file is a genuine certificate")
        result.explanation = _(
            "It is exactly the file we issued to %(name)s (code %(code)s), and its digital signature is intact."
        ) % {"name": certificate.learner_name, "code": code}
    else:
        result.headline = _("This file is not a certificate we issued")
        result.explanation = _(
            "It is not identical to any certificate file we issued: it may have been changed, or made by someone "
            "else. If you have its verification code, check the code instead."
        )
    return result


# --- Any file ----------------------------------------------------------------------------------


def file_check(data: bytes, name: str = "") -> FileCheckResult:
    """Check an uploaded file (its bytes and name): a certificate PDF, a credential or a badge image."""
    kind = file_kind(data, name)
    if kind == "pdf":
        return pdf_file_check(data)
    if kind in ("credential", "badge"):
        return credential_file_check(data, kind=kind)
    result = FileCheckResult(kind="unknown", outcome="unreadable")
    result.headline = _("We could not read this file")
    result.explanation = _(
        "This file is not a certificate we issued: it is not a PDF, a credential (JSON) or a badge image (PNG). "
        "If you have the certificate's verification code, check the code instead."
    )
    result.checks.append(
        Check(_("Kind of file"), False, _("It is not a PDF, a credential (JSON) or a badge image (PNG)."))
    )
    return result
