"""State changes of the partner portal: cohorts, enrolling learners in bulk, pending uploads.

Every function is keyword-only and atomic. Learners are enrolled in one transaction by
``learners_enrol`` (bulk inserts, a lock on the cohort row, a re-check of every rule inside
the lock) and invited after commit by ONE Celery task (``academy.services.learner_invitations_queue``).
"""

from __future__ import annotations

import datetime
from dataclasses import asdict

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from academy.models import User
from programmes.models import Cohort, Enrolment, Programme

from .imports import FileRow
from .models import EnrolmentUpload, PartnerOrganisation
from .selectors import enrolment_problem, enrolment_rows_check, live_enrolment_count, open_programmes_for

DEFAULT_UPLOAD_EXPIRY_HOURS = 24


def _upload_expiry() -> datetime.timedelta:
    return datetime.timedelta(hours=getattr(settings, "PARTNER_UPLOAD_EXPIRY_HOURS", DEFAULT_UPLOAD_EXPIRY_HOURS))


# --- Cohorts ------------------------------------------------------------------------------------


def _check_cohort(*, cohort: Cohort, organisation: PartnerOrganisation, programme_changed: bool) -> None:
    errors = {}
    if programme_changed and not open_programmes_for(organisation=organisation).filter(pk=cohort.programme_id).exists():
        errors["programme"] = _("Choose a programme that is open and that your organisation is linked to.")
    if cohort.starts_on and cohort.ends_on and cohort.ends_on < cohort.starts_on:
        errors["ends_on"] = _("The end date must be on or after the start date.")
    if cohort.pk:
        live = live_enrolment_count(cohort=cohort)
        if cohort.capacity is not None and cohort.capacity < live:
            errors["capacity"] = _(
                "%(count)s learners are already enrolled, so the cohort needs at least %(count)s places."
            ) % {"count": live}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def cohort_create(
    *,
    organisation: PartnerOrganisation,
    programme: Programme,
    name: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    venue: str,
    capacity: int,
    created_by,
) -> Cohort:
    """A partner starts a cohort of a programme it is linked to and that is open."""
    cohort = Cohort(
        programme=programme,
        partner=organisation,
        name=name.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        venue=venue.strip(),
        capacity=capacity,
        created_by=created_by,
    )
    _check_cohort(cohort=cohort, organisation=organisation, programme_changed=True)
    cohort.full_clean()
    cohort._history_user = created_by
    cohort.save()
    return cohort


@transaction.atomic
def cohort_update(
    *,
    cohort: Cohort,
    programme: Programme,
    name: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    venue: str,
    capacity: int,
    changed_by,
) -> Cohort:
    """Change a cohort's details. The cohort row is locked so that the capacity check sees
    enrolments made at the same moment; the programme can change only while nobody is enrolled."""
    locked = Cohort.objects.select_for_update().get(pk=cohort.pk)
    programme_changed = programme.pk != locked.programme_id
    if programme_changed and Enrolment.objects.filter(cohort=locked).exists():
        raise ValidationError(
            {"programme": _("Learners are enrolled in this cohort, so its programme can no longer change.")}
        )
    locked.programme = programme
    locked.name = name.strip()
    locked.starts_on = starts_on
    locked.ends_on = ends_on
    locked.venue = venue.strip()
    locked.capacity = capacity
    _check_cohort(cohort=locked, organisation=locked.partner, programme_changed=programme_changed)
    locked.full_clean()
    locked._history_user = changed_by
    locked.save()
    return locked


# --- Enrolling learners -------------------------------------------------------------------------


@transaction.atomic
def learners_enrol(*, cohort: Cohort, learners: list[tuple[str, str]], enrolled_by) -> list[Enrolment]:
    """Enrol ``learners`` (email, full name) in ``cohort``: all of them or, if any cannot be
    enrolled, none (ValidationError saying which and why).

    Accounts that do not exist yet are created without a usable password; an existing account
    keeps its name. Enrolments start as “invited”. The invitations go to ONE Celery task after
    commit. A constant number of queries whatever the number of learners.
    """
    from academy.services import learner_invitations_queue

    cohort = Cohort.objects.select_for_update(of=("self",)).select_related("programme", "partner").get(pk=cohort.pk)
    problem = enrolment_problem(cohort=cohort)
    if problem:
        raise ValidationError(problem, code="closed")
    if not learners:
        raise ValidationError(_("There is nobody to enrol."), code="empty")
    checked = enrolment_rows_check(
        cohort=cohort,
        rows=[{"row": i, "email": email, "full_name": name} for i, (email, name) in enumerate(learners, start=1)],
    )
    problems = [
        _("%(who)s: %(message)s") % {"who": row["email"] or row["full_name"] or row["row"], "message": e["message"]}
        for row in checked
        for e in row["errors"]
    ]
    if problems:
        raise ValidationError(problems, code="invalid")

    emails = [row["email"] for row in checked]
    User.objects.bulk_create(
        [User(email=row["email"], full_name=row["full_name"], password=make_password(None)) for row in checked],
        ignore_conflicts=True,  # accounts that already exist keep their name and password
    )
    users = {user.email: user for user in User.objects.filter(email__in=emails)}
    enrolments = [
        Enrolment(
            learner=users[email],
            cohort=cohort,
            programme_id=cohort.programme_id,
            status=Enrolment.Status.INVITED,
            enrolled_by=enrolled_by,
        )
        for email in emails
    ]
    try:
        with transaction.atomic():
            enrolments = bulk_create_with_history(enrolments, Enrolment, default_user=enrolled_by)
    except IntegrityError as exc:
        raise ValidationError(
            _(
                "One of these learners was enrolled in “%(programme)s” by someone else at the same moment. "
                "Nothing was saved: check the list again."
            )
            % {"programme": cohort.programme},
            code="conflict",
        ) from exc
    learner_invitations_queue(learners=[users[email].pk for email in emails], invited_by=enrolled_by)
    return enrolments


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
