"""State changes of the partner portal: pending uploads of learner lists (preview, then confirm).

Cohorts and enrolments are made by ``programmes.services`` (one set of rules for the admin,
staff invitations and the portal); this module keeps a checked file until its coordinator
confirms it, then enrols its rows there, all or nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from programmes.models import Cohort, Enrolment
from programmes.selectors import enrolment_rows_check
from programmes.services import learners_enrol

from .imports import FileRow
from .models import EnrolmentUpload

DEFAULT_UPLOAD_EXPIRY_HOURS = 24


def _upload_expiry() -> datetime.timedelta:
    return datetime.timedelta(hours=getattr(settings, "PARTNER_UPLOAD_EXPIRY_HOURS", DEFAULT_UPLOAD_EXPIRY_HOURS))


# --- Pending uploads (preview, then confirm) ----------------------------------------------------


@transaction.atomic
def enrolment_upload_create(*, cohort: Cohort, uploaded_by, filename: str, rows: list[FileRow]) -> EnrolmentUpload:
    """Check every row of a file and keep the result for the coordinator to confirm. Nothing is
    enrolled here. Expired previews (anyone's) are deleted on the way."""
    now = timezone.now()
    EnrolmentUpload.objects.filter(expires_at__lt=now).delete()
    checked = enrolment_rows_check(cohort=cohort, rows=[asdict(row) for row in rows])
    return EnrolmentUpload.objects.create(
        organisation_id=cohort.partner_id,
        cohort=cohort,
        uploaded_by=uploaded_by,
        filename=filename[:255],
        rows=checked,
        expires_at=now + _upload_expiry(),
    )


@transaction.atomic
def enrolment_upload_recheck(*, upload: EnrolmentUpload) -> EnrolmentUpload:
    """Check the upload's rows again against today's enrolments and places."""
    upload.rows = enrolment_rows_check(cohort=upload.cohort, rows=upload.rows)
    upload.save(update_fields=["rows"])
    return upload


@transaction.atomic
def enrolment_upload_confirm(*, upload: EnrolmentUpload, confirmed_by) -> list[Enrolment]:
    """Enrol every row that was valid in the preview, all or nothing, and forget the upload.
    If anything changed since the preview (a learner enrolled elsewhere, places taken), nothing
    is written and ValidationError says so."""
    locked = EnrolmentUpload.objects.select_for_update().filter(pk=upload.pk).first()
    if locked is None:
        raise ValidationError(_("This list has already been confirmed or has expired."), code="gone")
    if locked.expires_at < timezone.now():
        raise ValidationError(_("This preview has expired. Upload the file again."), code="expired")
    valid = locked.valid_rows
    if not valid:
        raise ValidationError(_("No row of this file can be enrolled. Correct the file and upload it again."))
    enrolments = learners_enrol(
        cohort=locked.cohort, learners=[(row["email"], row["full_name"]) for row in valid], enrolled_by=confirmed_by
    )
    locked.delete()
    return enrolments
