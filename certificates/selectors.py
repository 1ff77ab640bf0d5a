"""Reads of certificates that pages, the admin and the sweeper need."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Certificate, CertificateFileRenewal, CertificateIntegrityCheck, CertificateVersion


def certificate_for_verification(*, code: str) -> Certificate | None:
    """The certificate shown on the public verification page: issued or revoked (or being
    reissued, when an earlier version exists). Pending and failed ones are unknown to the public."""
    certificate = (
        Certificate.objects.filter(verification_code=code)
        .select_related("enrolment__programme", "enrolment__cohort__partner")
        .first()
    )
    if certificate is None:
        return None
    if certificate.status in (Certificate.Status.ISSUED, Certificate.Status.REVOKED):
        return certificate
    if certificate.version > 1 and certificate.learner_name:
        return certificate  # a reissue is being prepared; the earlier version stands meanwhile
    return None


def certificates_by_enrolment(enrolment_ids: list[int]) -> dict[int, Certificate]:
    """The certificate (if any) of each enrolment, in one query."""
    if not enrolment_ids:
        return {}
    return {
        c.enrolment_id: c
        for c in Certificate.objects.filter(enrolment_id__in=enrolment_ids).only(
            "id",
            "enrolment_id",
            "status",
            "verification_code",
            "version",
            "issued_at",
            "revoked_at",
            "programme_title",
            "credential_sha256",
        )
    }


def certificate_by_sha256(*, sha256: str) -> tuple[Certificate | None, CertificateVersion | None]:
    """The certificate whose current PDF (or that file before an archival timestamp renewal), or
    one of whose superseded versions, has this hash."""
    certificate = Certificate.objects.filter(sha256=sha256).exclude(sha256="").first()
    if certificate is not None:
        return certificate, None
    version = CertificateVersion.objects.filter(sha256=sha256).select_related("certificate").first()
    if version is not None:
        return version.certificate, version
    # The current file before its archival timestamp was renewed: the certificate as issued.
    renewal = CertificateFileRenewal.objects.filter(previous_sha256=sha256).select_related("certificate").first()
    if renewal is not None:
        return renewal.certificate, None
    return None, None


def certificate_for_download(*, user, code: str) -> Certificate | None:
    """The issued certificate with this code if ``user`` may download it: the learner, staff,
    or a coordinator/viewer of the partner organisation that ran the learner's cohort."""
    if not user.is_authenticated:
        return None
    queryset = Certificate.objects.filter(verification_code=code, status=Certificate.Status.ISSUED).exclude(pdf="")
    if not user.is_staff:
        queryset = queryset.filter(
            Q(enrolment__learner=user) | Q(enrolment__cohort__partner__memberships__user=user)
        ).distinct()
    return queryset.first()


def certificates_stale(*, older_than: datetime.timedelta) -> QuerySet[Certificate]:
    """Pending certificates, and failed ones with attempts left, untouched for ``older_than``."""
    cutoff = timezone.now() - older_than
    pending = Q(status=Certificate.Status.PENDING, requested_at__lt=cutoff) & (
        Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=cutoff)
    )
    failed = Q(
        status=Certificate.Status.FAILED, attempts__lt=settings.CERTIFICATE_MAX_ATTEMPTS, last_attempt_at__lt=cutoff
    )
    return Certificate.objects.filter(pending | failed).order_by("requested_at")


def certificates_pending_overdue_count(*, minutes: int = 10) -> int:
    """How many certificates have been pending for more than ``minutes`` (shown to staff)."""
    cutoff = timezone.now() - datetime.timedelta(minutes=minutes)
    return Certificate.objects.filter(status=Certificate.Status.PENDING, requested_at__lt=cutoff).count()


def status_list_get(*, list_id: int):
    """The status list with this id (its bits, version and purpose), or None."""
    from .models import StatusList

    return StatusList.objects.filter(pk=list_id).first()


def certificate_credential_public(*, code: str) -> Certificate | None:
    """The certificate whose current credential is public at ``/verify/<code>/credential.json``:
    issued, or revoked (its credential is served still; its status entry says it is revoked).
    Pending (a reissue being prepared) and failed ones have no current credential."""
    return (
        Certificate.objects.filter(
            verification_code=code, status__in=(Certificate.Status.ISSUED, Certificate.Status.REVOKED)
        )
        .exclude(credential__isnull=True)
        .only("id", "verification_code", "status", "version", "credential", "credential_sha256")
        .first()
    )


def status_entry_record(*, list_id: int, index: int):
    """The status list entry at ``index`` of list ``list_id`` with its certificate (one query), or None."""
    from .models import StatusListEntry

    return (
        StatusListEntry.objects.filter(status_list_id=list_id, index=index)
        .select_related("certificate", "status_list")
        .first()
    )


def certificate_version_get(*, certificate_id: int, version: int) -> CertificateVersion | None:
    """The superseded ``version`` of a certificate, or None."""
    return CertificateVersion.objects.filter(certificate_id=certificate_id, version=version).first()


def certificate_by_credential_sha256(*, sha256: str) -> tuple[Certificate | None, CertificateVersion | None]:
    """The certificate whose current credential, or one of whose superseded versions' credential,
    has this hash (the bytes served: ``services.credential_bytes``)."""
    certificate = Certificate.objects.filter(credential_sha256=sha256).exclude(credential_sha256="").first()
    if certificate is not None:
        return certificate, None
    version = CertificateVersion.objects.filter(credential_sha256=sha256).select_related("certificate").first()
    if version is not None:
        return version.certificate, version
    return None, None


def integrity_check_last() -> CertificateIntegrityCheck | None:
    """The latest finished run of the integrity check (``check_certificates``), or None."""
    return CertificateIntegrityCheck.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()


def integrity_failures() -> int:
    """How many stored certificate files failed the latest finished integrity check (missing, not
    matching their SHA-256, or no longer validating); 0 before the first run. One query."""
    last = (
        CertificateIntegrityCheck.objects.filter(finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("failures", flat=True)
        .first()
    )
    return last or 0


def verification_counts_per_week(start: datetime.date, end: datetime.date) -> list[dict]:
    """Verification look-ups per week from the week of ``start`` to the week of ``end``, both
    included: one dict per week that has any, in order, ``{"week_starting": date, "verify_page":
    n, "credential_json": n, "file_check": n}`` (0 for a kind with none). One query."""
    from .lookup_counts import week_starting
    from .models import VerificationLookupCount

    kinds = VerificationLookupCount.Kind.values
    weeks: dict[datetime.date, dict] = {}
    for row in VerificationLookupCount.objects.filter(
        week_starting__gte=week_starting(start), week_starting__lte=week_starting(end)
    ).order_by("week_starting"):
        week = weeks.setdefault(row.week_starting, {"week_starting": row.week_starting, **dict.fromkeys(kinds, 0)})
        week[row.kind] = row.count
    return list(weeks.values())
