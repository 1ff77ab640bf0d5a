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
