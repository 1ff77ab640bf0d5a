"""Certificates: one per completed enrolment, signed PDF, publicly verifiable by its code.

How a certificate is issued, rendered, signed and verified lives in ``certificates.services``
and ``certificates.tasks``. A reissue keeps every earlier signed PDF as a ``CertificateVersion``
marked superseded, so a file printed before a name correction can still be recognised.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


def certificate_pdf_path(instance, filename: str) -> str:
    """Where a signed PDF is stored: a random folder, so no file name can be guessed."""
    return certificate_pdf_name(token=secrets.token_urlsafe(24), when=timezone.now())


def certificate_pdf_name(*, token: str, when) -> str:
    """The stored name of the PDF written by the issuing attempt with claim ``token`` (random,
    32 characters), claimed at ``when``: unguessable, unique to that attempt, and known to whoever
    takes a stale claim over, so the file a killed worker may have left can be removed."""
    return f"certificates/{when:%Y/%m}/{token}/certificate.pdf"


class Certificate(models.Model):
    """The certificate a learner earns by completing an enrolment.

    PII: ``learner_name`` (a snapshot taken at issue, so later name changes never alter it).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        ISSUED = "issued", _("Issued")
        FAILED = "failed", _("Failed")
        REVOKED = "revoked", _("Revoked")

    enrolment = models.OneToOneField(
        "programmes.Enrolment", on_delete=models.PROTECT, related_name="certificate", verbose_name=_("enrolment")
    )
    verification_code = models.CharField(_("verification code"), max_length=40, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    # Snapshots taken when the certificate is issued.
    learner_name = models.CharField(_("learner's name"), max_length=200, blank=True)
    programme_title = models.CharField(_("programme"), max_length=200, blank=True)
    cohort_name = models.CharField(_("cohort"), max_length=200, blank=True)
    partner_name = models.CharField(_("partner organisation"), max_length=200, blank=True)
    competencies = models.JSONField(
        _("competencies achieved"), default=list, blank=True, help_text=_("Domains and competencies at issue.")
    )
    pdf = models.FileField(_("PDF"), upload_to=certificate_pdf_path, blank=True, max_length=200)
    sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, blank=True, db_index=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    failure_reason = models.TextField(_("why it failed"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    requested_at = models.DateTimeField(
        _("requested"),
        default=timezone.now,
        help_text=_("When this version was asked for (completion, reissue or retry)."),
    )
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("learner emailed"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revocation_reason = models.TextField(_("reason for revoking"), blank=True)
    # The issuing attempt working on this certificate (``certificates.services.certificate_issue``):
    # a random token and when it claimed the row; empty when no attempt holds it. A claim older
    # than ``CERTIFICATE_CLAIM_TIMEOUT_SECONDS`` (a worker that was killed) may be taken over.
    claim_token = models.CharField(_("issuing attempt"), max_length=64, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("claimed by an issuing attempt"), null=True, blank=True, editable=False)
    # The Open Badges 3.0 credential issued with the PDF (frozen at issue: stored, hashed), and the
    # status list entry its ``credentialStatus`` points at.
    credential = models.JSONField(_("credential"), null=True, blank=True, editable=False)
    credential_sha256 = models.CharField(_("SHA-256 of the credential"), max_length=64, blank=True, editable=False)
    status_entry = models.OneToOneField(
        "certificates.StatusListEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("status list entry"),
    )
    history = HistoricalRecords(excluded_fields=["attempts", "last_attempt_at", "claim_token", "claimed_at"])

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="revoked") | Q(revoked_at__isnull=False), name="certificate_revoked_has_timestamp"
            ),
            models.CheckConstraint(
                condition=~Q(status="issued") | (Q(issued_at__isnull=False) & ~Q(sha256="")),
                name="certificate_issued_has_pdf_hash",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="certificate_status_created_idx"),
            # Reports: certificates issued, and revoked, in a period.
            models.Index(fields=["issued_at"], name="certificate_issued_idx"),
            models.Index(fields=["revoked_at"], name="certificate_revoked_idx"),
        ]

    def __str__(self):
        return f"{self.verification_code} ({self.get_status_display()})"


class CertificateVersion(models.Model):
    """An earlier signed PDF of a certificate, superseded by a reissue (kept, never served as
    the current certificate, still recognised by the file check)."""

    certificate = models.ForeignKey(
        Certificate, on_delete=models.CASCADE, related_name="versions", verbose_name=_("certificate")
    )
    version = models.PositiveSmallIntegerField(_("version"))
    learner_name = models.CharField(_("learner's name"), max_length=200, blank=True)
    pdf = models.FileField(_("PDF"), blank=True, max_length=200)
    sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, db_index=True)
    issued_at = models.DateTimeField(_("issued"))
    superseded_at = models.DateTimeField(_("superseded"), default=timezone.now)
    superseded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(_("why it was reissued"), blank=True)
    credential = models.JSONField(_("credential"), null=True, blank=True, editable=False)
    credential_sha256 = models.CharField(_("SHA-256 of the credential"), max_length=64, blank=True, editable=False)
    status_entry = models.OneToOneField(
        "certificates.StatusListEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("status list entry"),
    )

    class Meta:
        verbose_name = _("superseded version")
        verbose_name_plural = _("superseded versions")
        ordering = ["certificate", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["certificate", "version"], name="certificateversion_unique_version")
        ]

    def __str__(self):
        return f"{self.certificate.verification_code} v{self.version}"


# The W3C Bitstring Status List v1.0 minimum: 131,072 entries (16 KB), so one entry among many
# says nothing about whose it is (herd privacy).
class CertificateFileRenewal(models.Model):
    """The hash a certificate's PDF had before its archival timestamp chain was renewed (the
    renewed file is the same file with an incremental update appended): a copy downloaded before
    the renewal is still recognised by the file check as the certificate issued."""

    certificate = models.ForeignKey(
        Certificate, on_delete=models.CASCADE, related_name="file_renewals", verbose_name=_("certificate")
    )
    previous_sha256 = models.CharField(_("SHA-256 of the PDF before"), max_length=64, db_index=True)
    renewed_at = models.DateTimeField(_("renewed"), default=timezone.now)

    class Meta:
        verbose_name = _("archival timestamp renewal")
        verbose_name_plural = _("archival timestamp renewals")
        ordering = ["certificate", "-renewed_at"]

    def __str__(self):
        return f"{self.certificate_id}: {self.previous_sha256[:12]}… ({self.renewed_at:%Y-%m-%d})"


STATUS_LIST_SIZE = 131072


class StatusList(models.Model):
    """A W3C Bitstring Status List (``revocation``): one bit per credential, set when that
    credential is revoked (a staff revocation, or the old credential of a reissue). Served as a
    signed ``BitstringStatusListCredential`` at ``certificates:status_list``. ``version`` grows
    with every change, so a cached copy of the signed list is keyed by it and cannot go stale."""

    class Purpose(models.TextChoices):
        REVOCATION = "revocation", _("Revocation")

    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.REVOCATION)
    size = models.PositiveIntegerField(_("entries"), default=STATUS_LIST_SIZE)
    bits = models.BinaryField(_("bitstring"), help_text=_("Index 0 is the left-most bit of the first byte."))
    version = models.PositiveIntegerField(_("version"), default=1)
    full = models.BooleanField(_("full"), default=False, help_text=_("Every index has been handed out."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("status list")
        verbose_name_plural = _("status lists")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=STATUS_LIST_SIZE), name="statuslist_size_at_least_minimum")
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} list {self.pk}"


class StatusListEntry(models.Model):
    """An index of a status list handed out (at random, never twice) to one issuing attempt of
    one version of a certificate. An attempt that lost the race keeps its index, unused: an index
    is never handed out again."""

    status_list = models.ForeignKey(
        StatusList, on_delete=models.PROTECT, related_name="entries", verbose_name=_("status list")
    )
    index = models.PositiveIntegerField(_("index"))
    # Kept when its certificate is deleted (the index stays used: never handed out again).
    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="status_entries",
        verbose_name=_("certificate"),
    )
    certificate_version = models.PositiveSmallIntegerField(_("certificate version"))
    allocated_at = models.DateTimeField(_("allocated"), default=timezone.now)

    class Meta:
        verbose_name = _("status list entry")
        verbose_name_plural = _("status list entries")
        constraints = [
            models.UniqueConstraint(fields=["status_list", "index"], name="statuslistentry_unique_index"),
        ]

    def __str__(self):
        return f"{self.status_list_id}#{self.index}"


class CertificateIntegrityCheck(models.Model):
    """One run of the integrity check (``python manage.py check_certificates``, weekly from Celery
    beat): how many stored certificate files it checked and how many failed (missing from storage,
    not matching their SHA-256, or no longer validating), with the first problems in words. The
    latest finished run's count is ``certificates.selectors.integrity_failures()`` (a metric)."""

    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    checked = models.PositiveIntegerField(_("files checked"), default=0)
    failures = models.PositiveIntegerField(_("files that failed"), default=0)
    report = models.TextField(_("problems found"), blank=True, help_text=_("The first problems, one a line."))

    class Meta:
        verbose_name = _("integrity check")
        verbose_name_plural = _("integrity checks")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["-finished_at"], name="integrity_check_finished_idx")]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M}: {self.failures} of {self.checked} failed"


class VerificationLookupCount(models.Model):
    """How many verification look-ups of one kind were made in one week (weeks start on Monday).

    Only the count: no code, no certificate, no address, nothing about who looked. Counted by
    ``certificates.lookup_counts.lookup_record`` with an atomic upsert; read by
    ``certificates.selectors.verification_counts_per_week``."""

    class Kind(models.TextChoices):
        VERIFY_PAGE = "verify_page", _("Verification page")
        CREDENTIAL_JSON = "credential_json", _("Credential (JSON)")
        FILE_CHECK = "file_check", _("File check")

    week_starting = models.DateField(_("week starting"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    count = models.PositiveBigIntegerField(_("look-ups"), default=0)

    class Meta:
        verbose_name = _("verification look-up count")
        verbose_name_plural = _("verification look-up counts")
        ordering = ["week_starting", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["week_starting", "kind"], name="verificationlookupcount_unique_week_kind")
        ]

    def __str__(self):
        return f"{self.week_starting}: {self.count} {self.kind}"
