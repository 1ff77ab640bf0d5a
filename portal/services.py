"""State changes of the partner portal: pending uploads of learner lists (preview, then confirm).

Cohorts and enrolments are made by ``programmes.services`` (one set of rules for the admin,
staff invitations and the portal); this module keeps a checked file until its coordinator
confirms it, then enrols its rows there, all or nothing.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from academy.services import invitation_max_attempts, invitation_retry_countdown
from programmes import services as programme_services
from programmes.models import Cohort, Enrolment
from programmes.selectors import enrolment_rows_check

from .imports import FileRow
from .models import EnrolmentNotice, EnrolmentUpload

logger = logging.getLogger(__name__)
SWEEP_LIMIT = 5000

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


# --- Enrolling, and telling learners who already have an account -------------------------------


@transaction.atomic
def learners_enrol(*, cohort: Cohort, learners: list[tuple[str, str]], enrolled_by) -> list[Enrolment]:
    """Enrol people by (email, full name) as ``programmes.services.learners_enrol`` does (all or
    none; new accounts get an invitation), and record a “you have been added to …” email for
    each learner who already has an account, in the same transaction."""
    enrolments = programme_services.learners_enrol(cohort=cohort, learners=learners, enrolled_by=enrolled_by)
    enrolment_notices_record(enrolments=enrolments, enrolled_by=enrolled_by)
    return enrolments


def _sweep_after(now):
    return now + datetime.timedelta(minutes=settings.INVITATION_SWEEP_AFTER_MINUTES)


@transaction.atomic
def enrolment_notices_record(*, enrolments: list[Enrolment], enrolled_by=None) -> list[int]:
    """Record a notice for each of these enrolments whose learner is active and has a password
    (the others get an invitation instead), and queue them after commit. One query to write,
    whatever their number. Returns the notices' ids."""
    now = timezone.now()
    notices = EnrolmentNotice.objects.bulk_create(
        [
            EnrolmentNotice(enrolment=enrolment, enrolled_by=enrolled_by, sweep_after=_sweep_after(now))
            for enrolment in enrolments
            if enrolment.learner.is_active and enrolment.learner.has_usable_password()
        ]
    )
    ids = [notice.pk for notice in notices]
    if ids:
        transaction.on_commit(lambda: enrolment_notices_publish(notice_ids=ids))
    return ids


def enrolment_notices_publish(*, notice_ids: list[int]) -> bool:
    """Queue the task that sends these notices. Never raises: if the broker cannot be reached,
    the notices stay pending and the sweeper sends them later."""
    from .tasks import enrolment_notices_send_task

    try:
        enrolment_notices_send_task.apply_async(
            args=[list(notice_ids)],
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
        )
    except Exception as exc:  # the broker being unreachable must never fail the caller
        logger.warning(
            "Could not queue %d enrolment notice(s) (%s: %s); the sweeper will send them.",
            len(notice_ids),
            type(exc).__name__,
            exc,
        )
        return False
    return True


def enrolment_notices_send(*, notice_ids: list[int]) -> list[int]:
    """Send these notices (those still pending) over one connection to the mail server. Each is
    claimed with a row lock (``SKIP LOCKED``: a duplicate task skips it), marked sent and
    committed as soon as the server accepted it, so none is sent twice and none lost. A learner
    withdrawn or deactivated meanwhile is skipped. Returns the ids still to try again (an error
    that may pass), each with one more attempt recorded; after ``INVITATION_MAX_ATTEMPTS`` a
    notice is marked failed."""
    from .emails import enrolment_added_message

    retry = []
    connection = None
    try:
        for pk in notice_ids:
            with transaction.atomic():
                notice = (
                    EnrolmentNotice.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related(
                        "enrolment__learner",
                        "enrolment__cohort__programme",
                        "enrolment__cohort__partner",
                        "enrolled_by",
                    )
                    .filter(pk=pk, status=EnrolmentNotice.Status.PENDING)
                    .first()
                )
                if notice is None:
                    continue
                now = timezone.now()
                enrolment = notice.enrolment
                if not enrolment.learner.is_active or enrolment.status == Enrolment.Status.WITHDRAWN:
                    EnrolmentNotice.objects.filter(pk=pk).update(status=EnrolmentNotice.Status.SKIPPED)
                    continue
                message = enrolment_added_message(enrolment=enrolment, enrolled_by=notice.enrolled_by)
                try:
                    if connection is None:
                        connection = get_connection()
                        connection.open()
                    connection.send_messages([message])
                except Exception as exc:
                    attempts = notice.attempts + 1
                    failed = attempts >= invitation_max_attempts()
                    wait = invitation_retry_countdown(attempts) + settings.INVITATION_SWEEP_AFTER_MINUTES * 60
                    EnrolmentNotice.objects.filter(pk=pk).update(
                        status=EnrolmentNotice.Status.FAILED if failed else EnrolmentNotice.Status.PENDING,
                        attempts=attempts,
                        last_error=f"{type(exc).__name__}: {exc}"[:1000],
                        sweep_after=now + datetime.timedelta(seconds=wait),
                    )
                    if not failed:
                        retry.append(pk)
                    connection = None
                    continue
                EnrolmentNotice.objects.filter(pk=pk).update(
                    status=EnrolmentNotice.Status.SENT, sent_at=now, attempts=notice.attempts + 1, last_error=""
                )
    finally:
        if connection is not None:
            connection.close()
    return retry


def enrolment_notices_sweep(*, now=None) -> list[int]:
    """The sweeper (Celery beat): queue again every notice still pending after ``sweep_after``
    (never queued because the broker was down, or its message lost)."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            EnrolmentNotice.objects.select_for_update(skip_locked=True)
            .filter(status=EnrolmentNotice.Status.PENDING, sweep_after__lte=now)
            .order_by("sweep_after", "pk")
            .values_list("pk", flat=True)[:SWEEP_LIMIT]
        )
        if ids:
            EnrolmentNotice.objects.filter(pk__in=ids).update(sweep_after=_sweep_after(now))
    if ids:
        enrolment_notices_publish(notice_ids=ids)
    return ids
