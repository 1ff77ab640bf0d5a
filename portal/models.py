"""The partner portal's own record: a checked upload waiting for confirmation."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EnrolmentUpload(models.Model):
    """A checked CSV or XLSX upload waiting for its coordinator to confirm it.

    Nothing is enrolled until the person who uploaded it confirms; the preview expires after
    ``PARTNER_UPLOAD_EXPIRY_HOURS``. PII: ``rows`` holds the learners' emails and names, so the
    row is deleted once it is confirmed or has expired.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        "partners.PartnerOrganisation", on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation")
    )
    cohort = models.ForeignKey(
        "programmes.Cohort", on_delete=models.CASCADE, related_name="+", verbose_name=_("cohort")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("uploaded by")
    )
    filename = models.CharField(_("file name"), max_length=255)
    rows = models.JSONField(
        _("rows"), default=list, help_text=_("Each row: its number in the file, email, full name and errors.")
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        db_table = "partners_enrolmentupload"  # made by the partners app before the portal had its own
        verbose_name = _("enrolment upload")
        verbose_name_plural = _("enrolment uploads")
        ordering = ["-created_at"]

    def __str__(self):
        return self.filename

    @property
    def valid_rows(self) -> list[dict]:
        return [r for r in self.rows if not r["errors"]]

    @property
    def invalid_rows(self) -> list[dict]:
        return [r for r in self.rows if r["errors"]]


class EnrolmentNotice(models.Model):
    """One “you have been added to …” email to a learner who already has an account (a password)
    and whom a partner has enrolled: written in the same transaction as the enrolment, sent
    afterwards by a Celery task (``portal.tasks``), like ``academy.Invitation``.

    ``status`` is pending until the mail server accepted it (``sent_at``), or until it need not
    go (the learner was withdrawn or deactivated meanwhile), or until the attempts ran out
    (``INVITATION_MAX_ATTEMPTS``; ``last_error`` says why). The sweeper (Celery beat) sends what is
    still pending once ``sweep_after`` has passed, so a broker that was down delays a notice but
    loses none.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not needed: withdrawn or deactivated meanwhile")
        FAILED = "failed", _("Not sent: gave up after repeated errors")

    enrolment = models.ForeignKey(
        "programmes.Enrolment", on_delete=models.CASCADE, related_name="+", verbose_name=_("enrolment")
    )
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("enrolled by"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sweep_after = models.DateTimeField(_("sweeper sends it after"))

    class Meta:
        verbose_name = _("enrolment notice")
        verbose_name_plural = _("enrolment notices")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["sweep_after"], condition=models.Q(status="pending"), name="enrolment_notice_sweep_idx"
            )
        ]

    def __str__(self):
        return f"{self.enrolment_id} ({self.get_status_display()})"
