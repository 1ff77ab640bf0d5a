"""The integrity check of stored certificates: is every file we issued still there, byte for
byte, and does its signature still validate?

For each issued or revoked certificate and each superseded version that has a file, in whatever
storage holds them (``STORAGES["default"]``: the local folder or the bucket), it reads the file
through the storage, compares its SHA-256 with the one recorded at issue (or at the last archival
timestamp renewal), and validates its PAdES signature with pyHanko exactly as "Check a file"
does (``certificates.signing.pdf_signature_check``): intact, valid, chained to the configured CA,
and nothing but long-term validation material appended after it.

``integrity_check_run`` walks the rows with ``.iterator()`` (one chunk of rows and one file in
memory at a time), reports each problem as it finds it and records the run
(``services.integrity_check_record``); ``python manage.py check_certificates`` prints it, and
Celery beat runs it weekly (``tasks.certificates_integrity_check_task``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.utils import timezone

from academy.storage import storage_errors

from .models import Certificate, CertificateIntegrityCheck, CertificateVersion

logger = logging.getLogger(__name__)

# How many problem lines a run keeps in its record (all are counted and printed).
REPORT_LINES_KEPT = 200
ROWS_PER_CHUNK = 200


@dataclass(frozen=True)
class StoredFile:
    """One file to check: whose it is, where it is stored, and the hash recorded for it."""

    certificate_id: int
    code: str
    version: int
    superseded: bool
    name: str
    sha256: str

    @property
    def label(self) -> str:
        which = "superseded version" if self.superseded else "version"
        return f"Certificate {self.code} ({which} {self.version}, file {self.name or '(none)'})"


@dataclass
class IntegrityReport:
    checked: int = 0
    failures: int = 0
    problems: list[str] = field(default_factory=list)


def stored_files() -> Iterator[StoredFile]:
    """Every stored certificate file to check, read in chunks: the current file of each issued or
    revoked certificate, then each superseded version."""
    certificates = (
        Certificate.objects.filter(status__in=(Certificate.Status.ISSUED, Certificate.Status.REVOKED))
        .order_by("pk")
        .values_list("pk", "verification_code", "version", "pdf", "sha256")
    )
    for pk, code, version, name, sha256 in certificates.iterator(chunk_size=ROWS_PER_CHUNK):
        yield StoredFile(pk, code, version, False, name or "", sha256)
    versions = (
        CertificateVersion.objects.exclude(pdf="")
        .order_by("pk")
        .values_list("certificate_id", "certificate__verification_code", "version", "pdf", "sha256")
    )
    for pk, code, version, name, sha256 in versions.iterator(chunk_size=ROWS_PER_CHUNK):
        yield StoredFile(pk, code, version, True, name or "", sha256)


def stored_file_problem(stored: StoredFile, *, storage=None) -> str | None:
    """What is wrong with one stored file, in a sentence; None when it is there, identical to what
    was issued, and its signature validates."""
    from .signing import pdf_signature_check

    storage = storage or default_storage
    if not stored.name:
        return "no file is recorded for it"
    try:
        with storage.open(stored.name, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return "its file is missing from storage"
    except storage_errors() as exc:
        return f"its file could not be read from storage ({type(exc).__name__}: {exc})"
    actual = hashlib.sha256(data).hexdigest()
    if actual != stored.sha256:
        return f"its file does not match its SHA-256 (recorded {stored.sha256[:16]}..., stored file {actual[:16]}...)"
    signature = pdf_signature_check(data)
    if not signature.signed:
        return f"its file carries no signature ({signature.problem})"
    if not (signature.intact and signature.valid):
        return f"its signature no longer validates ({signature.problem or 'broken or invalid'})"
    if not signature.trusted:
        return "its signature does not chain to the configured certificate authority (CERTIFICATE_SIGNING_CHAIN)"
    if not signature.whole_file:
        return "something other than long-term validation data was added after its signature"
    return None


def integrity_check_run(*, on_problem: Callable[[str], None] | None = None) -> CertificateIntegrityCheck:
    """Check every stored certificate file; ``on_problem`` hears each problem line as it is found.
    Records and returns the run (``CertificateIntegrityCheck``)."""
    from .services import integrity_check_record

    started_at = timezone.now()
    report = IntegrityReport()
    for stored in stored_files():
        report.checked += 1
        problem = stored_file_problem(stored)
        if problem is None:
            continue
        report.failures += 1
        line = f"{stored.label}: {problem}."
        logger.error("Integrity check: %s", line)
        if len(report.problems) < REPORT_LINES_KEPT:
            report.problems.append(line)
        if on_problem is not None:
            on_problem(line)
    run = integrity_check_record(
        started_at=started_at, checked=report.checked, failures=report.failures, problems=report.problems
    )
    logger.info("Integrity check: %d of %d certificate files failed.", report.failures, report.checked)
    return run
