"""State changes of the competency framework and of learners' progress.

Every function here is keyword-only and atomic. Completion is decided in one place,
``enrolment_evaluate``, and announced through one hook, ``enrolment_complete`` (which sends
``programmes.signals.enrolment_completed``).
"""

import datetime

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from academy import services as account_services
from academy.models import User

from .achievement_locks import locked_enrolment_ids
from .models import Achievement, Cohort, Competency, CompetencyDomain, Enrolment, Programme
from .selectors import (
    achievements_locked_message,
    enrolment_is_complete,
    enrolment_problem,
    enrolment_rows_check,
    live_enrolment_count,
    open_programmes_for,
    required_competencies,
)
from .signals import enrolment_completed


def _locked_enrolment(enrolment: Enrolment) -> Enrolment:
    """Re-read the enrolment under a row lock so concurrent writers see one another's work."""
    return Enrolment.objects.select_for_update().select_related("programme", "learner").get(pk=enrolment.pk)


def _check_can_record(enrolment: Enrolment, competency: Competency) -> None:
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        raise ValidationError(
            _("%(learner)s has withdrawn from this cohort, so no progress can be recorded for them.")
            % {"learner": enrolment.learner},
            code="withdrawn",
        )
    if not required_competencies(programme=enrolment.programme_id).filter(pk=competency.pk).exists():
        raise ValidationError(
            _("“%(competency)s” is not part of the programme “%(programme)s”, or it has been retired.")
            % {"competency": competency, "programme": enrolment.programme},
            code="not_required",
        )


@transaction.atomic
def achievement_record(
    *,
    enrolment: Enrolment,
    competency: Competency,
    recorded_by,
    evidence: str = "",
    achieved_on: datetime.date | None = None,
) -> Achievement:
    """Record that the learner has shown ``competency``; complete the enrolment if that was the
    last one. Recording the same competency again keeps the first record (and adds evidence)."""
    enrolment = _locked_enrolment(enrolment)
    _check_can_record(enrolment, competency)
    achievement, created = Achievement.objects.get_or_create(
        enrolment=enrolment,
        competency=competency,
        defaults={
            "achieved_on": achieved_on or timezone.localdate(),
            "recorded_by": recorded_by,
            "evidence": evidence.strip(),
        },
    )
    if not created and evidence.strip() and evidence.strip() not in achievement.evidence:
        achievement.evidence = "\n".join(filter(None, [achievement.evidence, evidence.strip()]))
        achievement.save(update_fields=["evidence"])
    enrolment_evaluate(enrolment=enrolment)
    return achievement


@transaction.atomic
def achievements_record(
    *, enrolment: Enrolment, competencies: list[Competency], recorded_by, evidence: str = ""
) -> list[Achievement]:
    """Record several competencies for one learner at once (one lock, one completion check)."""
    return [
        achievement_record(enrolment=enrolment, competency=c, recorded_by=recorded_by, evidence=evidence)
        for c in competencies
    ]


@transaction.atomic
def achievement_remove(*, enrolment: Enrolment, competency: Competency, removed_by) -> bool:
    """Undo an achievement (kept in its history); a completed enrolment becomes incomplete again.
    Returns whether there was one to remove. Refused (ValidationError, nothing written) while the
    enrolment's certificate is issued: staff revoke it first. An issued certificate is never touched."""
    enrolment = _locked_enrolment(enrolment)
    achievement = Achievement.objects.filter(enrolment=enrolment, competency=competency).first()
    if achievement is None:
        return False
    if locked_enrolment_ids([enrolment.pk]):
        raise ValidationError(achievements_locked_message(learner=enrolment.learner), code="certificate_issued")
    achievement._history_user = removed_by
    achievement.delete()
    enrolment_evaluate(enrolment=enrolment)
    return True


def enrolment_complete(*, enrolment: Enrolment) -> Enrolment:
    """The completion hook: mark the enrolment completed and tell other apps, in this transaction."""
    enrolment.status = Enrolment.Status.COMPLETED
    enrolment.completed_at = timezone.now()
    enrolment.save(update_fields=["status", "completed_at"])
    enrolment_completed.send(sender=Enrolment, enrolment=enrolment)
    return enrolment


def enrolment_reopen(*, enrolment: Enrolment) -> Enrolment:
    """A completed enrolment that lacks a required competency again is taking part again."""
    enrolment.status = Enrolment.Status.ACTIVE
    enrolment.completed_at = None
    enrolment.save(update_fields=["status", "completed_at"])
    return enrolment


@transaction.atomic
def enrolment_evaluate(*, enrolment: Enrolment) -> Enrolment:
    """Apply the completion rule to one enrolment (the caller holds its row lock)."""
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        return enrolment
    complete = enrolment_is_complete(enrolment=enrolment)
    if complete and enrolment.status != Enrolment.Status.COMPLETED:
        enrolment_complete(enrolment=enrolment)
    elif not complete and enrolment.status == Enrolment.Status.COMPLETED:
        enrolment_reopen(enrolment=enrolment)
    return enrolment


@transaction.atomic
def enrolments_reevaluate(*, programme: Programme | None = None) -> dict[str, int]:
    """Re-apply the completion rule after the framework changed (a competency added, retired or
    moved). ``programme=None`` means every programme (a core domain changed). Counts what moved.
    Issued certificates keep their snapshot whatever happens here."""
    programmes = [programme] if programme is not None else list(Programme.objects.all())
    completed = reopened = 0
    for prog in programmes:
        required_ids = list(required_competencies(programme=prog).values_list("id", flat=True))
        live = Enrolment.objects.filter(programme=prog).exclude(status=Enrolment.Status.WITHDRAWN)
        locked_ids = list(live.select_for_update().values_list("id", flat=True))
        live = Enrolment.objects.filter(id__in=locked_ids).annotate(
            n_achieved=Count("achievements", filter=Q(achievements__competency_id__in=required_ids))
        )
        for enrolment in live:
            is_complete = bool(required_ids) and enrolment.n_achieved == len(required_ids)
            if is_complete and enrolment.status != Enrolment.Status.COMPLETED:
                enrolment_complete(enrolment=enrolment)
                completed += 1
            elif not is_complete and enrolment.status == Enrolment.Status.COMPLETED:
                enrolment_reopen(enrolment=enrolment)
                reopened += 1
    return {"completed": completed, "reopened": reopened}


def _reevaluate_for_domain(domain: CompetencyDomain | None) -> dict[str, int]:
    if domain is None:
        return {"completed": 0, "reopened": 0}
    return enrolments_reevaluate(programme=None if domain.is_core else domain.programme)


@transaction.atomic
def competency_save(*, competency: Competency, changed_by=None) -> Competency:
    """Create or change a competency, keeping ``retired_at`` in step with ``is_active`` and
    re-evaluating the programmes whose requirements it touches (old and new domain)."""
    previous_domain = None
    if competency.pk:
        previous = Competency.objects.select_related("domain").filter(pk=competency.pk).first()
        previous_domain = previous.domain if previous else None
    if competency.is_active:
        competency.retired_at = None
    elif competency.retired_at is None:
        competency.retired_at = timezone.now()
    competency._history_user = changed_by
    competency.full_clean()
    competency.save()
    _reevaluate_for_domain(competency.domain)
    if previous_domain is not None and previous_domain.pk != competency.domain_id:
        _reevaluate_for_domain(previous_domain)
    return competency


@transaction.atomic
def competency_retire(*, competency: Competency, retired_by=None) -> Competency:
    """Retire a competency: no longer required, its achievements and history kept."""
    competency.is_active = False
    return competency_save(competency=competency, changed_by=retired_by)


@transaction.atomic
def domain_save(*, domain: CompetencyDomain, changed_by=None) -> CompetencyDomain:
    """Create or change a competency domain and re-evaluate the programmes it applies to."""
    previous = CompetencyDomain.objects.filter(pk=domain.pk).first() if domain.pk else None
    domain._history_user = changed_by
    domain.full_clean()
    domain.save()
    if previous is not None and (previous.is_core, previous.programme_id) != (domain.is_core, domain.programme_id):
        _reevaluate_for_domain(previous)
    _reevaluate_for_domain(domain)
    return domain


# --- Cohorts and enrolments: one set of rules for the admin, staff invitations and the portal --


def _cohort_check(*, cohort: Cohort, check_programme: bool) -> None:
    """The rules of a cohort's details. ``check_programme``: the programme must be open and linked
    to the cohort's partner organisation (partners choose from those; staff may run any)."""
    errors = {}
    if (
        check_programme
        and not open_programmes_for(organisation=cohort.partner_id).filter(pk=cohort.programme_id).exists()
    ):
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
    organisation,
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
    _cohort_check(cohort=cohort, check_programme=True)
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
    _cohort_check(cohort=locked, check_programme=programme_changed)
    locked.full_clean()
    locked._history_user = changed_by
    locked.save()
    return locked


@transaction.atomic
def cohort_save(*, cohort: Cohort, saved_by) -> Cohort:
    """Staff save a cohort from the admin: the same rules of dates and places as the portal's
    (the cohort's row is locked first, so enrolments made meanwhile are counted)."""
    if cohort.pk:
        Cohort.objects.select_for_update().filter(pk=cohort.pk).first()
    elif cohort.created_by_id is None:
        cohort.created_by = saved_by
    _cohort_check(cohort=cohort, check_programme=False)
    cohort._history_user = saved_by
    cohort.save()
    return cohort


@transaction.atomic
def enrolments_create(
    *, cohort: Cohort, learners: list, enrolled_by=None, status: str = Enrolment.Status.INVITED
) -> list[Enrolment]:
    """Enrol these learners (accounts) in a cohort, all or none. Refused (ValidationError, nothing
    written): a programme not open for enrolment, too few free places (withdrawn learners free
    theirs), a learner with a live enrolment in the programme already. The cohort's row is locked,
    so two people enrolling at once cannot both take the last place. A constant number of
    queries, whatever the number of learners."""
    cohort = Cohort.objects.select_for_update(of=("self",)).select_related("programme").get(pk=cohort.pk)
    problem = enrolment_problem(cohort=cohort)
    if problem:
        raise ValidationError(problem, code="closed")
    taken = live_enrolment_count(cohort=cohort)
    if taken + len(learners) > cohort.capacity:
        raise ValidationError(
            _("“%(cohort)s” is full: all %(capacity)s places are taken. Give the cohort more places first.")
            % {"cohort": cohort.name, "capacity": cohort.capacity}
            if taken >= cohort.capacity
            else _("“%(cohort)s” has %(free)s free places, too few for %(count)s learners.")
            % {"cohort": cohort.name, "free": cohort.capacity - taken, "count": len(learners)},
            code="full",
        )
    already = set(
        Enrolment.objects.filter(learner__in=learners, programme_id=cohort.programme_id)
        .exclude(status=Enrolment.Status.WITHDRAWN)
        .values_list("learner_id", flat=True)
    )
    if already:
        raise ValidationError(
            [
                _("%(learner)s is already enrolled in “%(programme)s”.")
                % {"learner": learner, "programme": cohort.programme}
                for learner in learners
                if learner.pk in already
            ],
            code="already_enrolled",
        )
    enrolments = [
        Enrolment(
            learner=learner, cohort=cohort, programme_id=cohort.programme_id, status=status, enrolled_by=enrolled_by
        )
        for learner in learners
    ]
    try:
        with transaction.atomic():
            return bulk_create_with_history(enrolments, Enrolment, default_user=enrolled_by)
    except IntegrityError as exc:
        raise ValidationError(
            _(
                "One of these learners was enrolled in “%(programme)s” by someone else at the same moment. "
                "Nothing was saved: check the list again."
            )
            % {"programme": cohort.programme},
            code="conflict",
        ) from exc


def enrolment_create(*, learner, cohort, enrolled_by=None, status: str = Enrolment.Status.INVITED) -> Enrolment:
    """Enrol one learner in a cohort: ``enrolments_create`` for one."""
    return enrolments_create(cohort=cohort, learners=[learner], enrolled_by=enrolled_by, status=status)[0]


@transaction.atomic
def learners_enrol(*, cohort: Cohort, learners: list[tuple[str, str]], enrolled_by) -> list[Enrolment]:
    """Enrol people by (email, full name), as partners do by form or upload: all of them or, if
    any cannot be enrolled, none (ValidationError saying which and why, row by row as the
    preview does). Accounts that do not exist yet are created without a usable password; an
    existing account keeps its name. Enrolments start as “invited”; the invitations are queued
    after commit. A constant number of queries whatever the number of learners."""
    # Locked first, so the rows check below sees the places and enrolments that will be final.
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
    enrolments = enrolments_create(cohort=cohort, learners=[users[e] for e in emails], enrolled_by=enrolled_by)
    account_services.learner_invitations_queue(learners=[users[email].pk for email in emails], invited_by=enrolled_by)
    return enrolments


@transaction.atomic
def enrolment_withdraw(*, enrolment: Enrolment, withdrawn_by=None) -> Enrolment:
    """Withdraw a learner from a cohort; their achievements and history are kept."""
    enrolment = _locked_enrolment(enrolment)
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        return enrolment
    if enrolment.status == Enrolment.Status.COMPLETED:
        raise ValidationError(
            _("%(learner)s has already completed this programme and cannot be withdrawn.")
            % {"learner": enrolment.learner},
            code="completed",
        )
    enrolment.status = Enrolment.Status.WITHDRAWN
    enrolment.withdrawn_at = timezone.now()
    enrolment.completed_at = None
    enrolment._history_user = withdrawn_by
    enrolment._change_reason = "withdrawn"
    enrolment.save(update_fields=["status", "withdrawn_at", "completed_at"])
    return enrolment


@transaction.atomic
def enrolments_withdraw(*, cohort: Cohort, enrolment_ids, withdrawn_by=None) -> list[Enrolment]:
    """Withdraw several learners of one cohort at once, all or none (the partner portal's bulk
    withdrawal): the enrolments are locked, and if any has completed the programme nothing is
    written (ValidationError naming them). Learners already withdrawn are left as they are.
    Returns the enrolments withdrawn now. A constant number of queries whatever their number;
    each withdrawal is in the enrolment's history with who did it."""
    enrolments = list(
        Enrolment.objects.select_for_update(of=("self",))
        .select_related("learner")
        .filter(cohort=cohort, pk__in=list(enrolment_ids))
        .order_by("learner__full_name", "pk")
    )
    completed = [e for e in enrolments if e.status == Enrolment.Status.COMPLETED]
    if completed:
        raise ValidationError(
            [
                _("%(learner)s has already completed this programme and cannot be withdrawn.") % {"learner": e.learner}
                for e in completed
            ],
            code="completed",
        )
    now = timezone.now()
    to_withdraw = [e for e in enrolments if e.status != Enrolment.Status.WITHDRAWN]
    for enrolment in to_withdraw:
        enrolment.status = Enrolment.Status.WITHDRAWN
        enrolment.withdrawn_at = now
        enrolment.completed_at = None
    bulk_update_with_history(
        to_withdraw,
        Enrolment,
        ["status", "withdrawn_at", "completed_at"],
        default_user=withdrawn_by,
        default_change_reason="withdrawn",
    )
    return to_withdraw


def _status_before_withdrawal(enrolment: Enrolment) -> str:
    """Invited or taking part, as the enrolment was just before its latest withdrawal (from its
    history); taking part if the learner has set a password since."""
    before = (
        enrolment.history.exclude(status=Enrolment.Status.WITHDRAWN)
        .order_by("-history_date", "-history_id")
        .values_list("status", flat=True)
        .first()
    )
    if enrolment.learner.has_usable_password() or before in (Enrolment.Status.ACTIVE, Enrolment.Status.COMPLETED):
        return Enrolment.Status.ACTIVE
    return Enrolment.Status.INVITED


@transaction.atomic
def enrolment_reinstate(*, enrolment: Enrolment, reinstated_by=None) -> Enrolment:
    """Undo a withdrawal: the learner is back in the cohort as before (invited, or taking part),
    and the completion rule is applied again (their achievements were kept). Refused
    (ValidationError, nothing written) when the learner is not withdrawn, when the cohort has no
    free place, or when the learner is enrolled in the same programme elsewhere. The cohort's
    row is locked first, so two reinstatements cannot both take the last place."""
    cohort = Cohort.objects.select_for_update().get(pk=enrolment.cohort_id)
    enrolment = _locked_enrolment(enrolment)
    learner = enrolment.learner
    if enrolment.status != Enrolment.Status.WITHDRAWN:
        raise ValidationError(
            _("%(learner)s has not been withdrawn, so there is nothing to undo.") % {"learner": learner},
            code="not_withdrawn",
        )
    if live_enrolment_count(cohort=cohort) >= cohort.capacity:
        raise ValidationError(
            _(
                "%(learner)s cannot be reinstated: all %(capacity)s places of “%(cohort)s” are taken. "
                "Give the cohort more places first, or withdraw someone else."
            )
            % {"learner": learner, "capacity": cohort.capacity, "cohort": cohort.name},
            code="full",
        )
    if (
        Enrolment.objects.filter(learner_id=enrolment.learner_id, programme_id=enrolment.programme_id)
        .exclude(status=Enrolment.Status.WITHDRAWN)
        .exclude(pk=enrolment.pk)
        .exists()
    ):
        raise ValidationError(
            _("%(learner)s cannot be reinstated: they are now enrolled in “%(programme)s” in another cohort.")
            % {"learner": learner, "programme": enrolment.programme},
            code="already_enrolled",
        )
    enrolment.status = _status_before_withdrawal(enrolment)
    enrolment.withdrawn_at = None
    enrolment._history_user = reinstated_by
    enrolment._change_reason = "reinstated"
    enrolment.save(update_fields=["status", "withdrawn_at"])
    enrolment_evaluate(enrolment=enrolment)
    return enrolment


@transaction.atomic
def enrolments_activate(*, learner) -> int:
    """A learner who has accepted their invitation is taking part in every cohort they were
    invited to. Returns how many enrolments moved from invited to active."""
    enrolments = list(Enrolment.objects.select_for_update().filter(learner=learner, status=Enrolment.Status.INVITED))
    for enrolment in enrolments:
        enrolment.status = Enrolment.Status.ACTIVE
        enrolment._history_user = learner
        enrolment.save(update_fields=["status"])
    return len(enrolments)


@transaction.atomic
def cohort_progress_save(
    *,
    cohort,
    ticks: set[tuple[int, int]],
    unticks: set[tuple[int, int]] = frozenset(),
    recorded_by,
    evidence: str = "",
) -> dict:
    """Save a facilitator's grid (or one learner's checklist) in ONE transaction: each
    (enrolment id, competency id) in ``ticks`` is recorded (with the evidence note), each in
    ``unticks`` undone. Everything is checked first, so bad input changes nothing; undoing an
    achievement behind an issued certificate is refused (staff revoke the certificate first).
    The same rules as ``achievement_record`` / ``achievement_remove``, in bulk: the number of
    queries does not grow with the number of boxes (only with the learners who complete or are
    no longer complete). Returns what changed: ``recorded``, ``removed`` (counts), ``changes``
    (per learner, by name: ``{"enrolment", "recorded", "removed"}``), ``completed`` (enrolments
    that have just completed) and ``reopened``."""
    ticks, unticks = set(ticks), set(unticks)
    if ticks & unticks:
        raise ValidationError(_("The same box was both ticked and unticked. Reload the page and try again."))
    enrolment_ids = {e for e, _c in ticks | unticks}
    # Lock the cohort's affected enrolments once, in a stable order (no deadlocks between facilitators).
    enrolments = {
        e.pk: e
        for e in Enrolment.objects.select_for_update(of=("self",))
        .select_related("learner", "programme")
        .filter(pk__in=enrolment_ids, cohort=cohort)
        .order_by("pk")
    }
    if set(enrolments) != enrolment_ids:
        raise ValidationError(_("Some of those learners are not in this cohort. Reload the page and try again."))
    required = {c.pk: c for c in required_competencies(programme=cohort.programme_id)}
    for enrolment_id, competency_id in ticks:
        if competency_id not in required:
            raise ValidationError(
                _("A competency you ticked is no longer part of this programme. Reload the page and try again.")
            )
        if enrolments[enrolment_id].status == Enrolment.Status.WITHDRAWN:
            raise ValidationError(
                _("%(learner)s has withdrawn from this cohort, so no progress can be recorded for them.")
                % {"learner": enrolments[enrolment_id].learner}
            )
    pairs = ticks | unticks
    existing = {
        (a.enrolment_id, a.competency_id): a
        for a in Achievement.objects.filter(enrolment_id__in=enrolment_ids, competency_id__in={c for _e, c in pairs})
        if (a.enrolment_id, a.competency_id) in pairs
    }
    removing = sorted(pair for pair in unticks if pair in existing)
    locked = locked_enrolment_ids({e for e, _c in removing})
    if locked:
        raise ValidationError(
            [
                achievements_locked_message(learner=enrolments[pk].learner)
                for pk in sorted(locked, key=lambda pk: str(enrolments[pk].learner))
            ],
            code="certificate_issued",
        )
    before = {pk: e.status for pk, e in enrolments.items()}
    evidence = evidence.strip()
    recorded_for = dict.fromkeys(enrolments, 0)
    removed_for = dict.fromkeys(enrolments, 0)
    today = timezone.localdate()
    new = []
    for pair in sorted(ticks):
        achievement = existing.get(pair)
        if achievement is None:
            new.append(
                Achievement(
                    enrolment_id=pair[0],
                    competency_id=pair[1],
                    achieved_on=today,
                    recorded_by=recorded_by,
                    evidence=evidence,
                )
            )
            recorded_for[pair[0]] += 1
        elif evidence and evidence not in achievement.evidence:
            # A colleague recorded it meanwhile: their record stays first, the note is added.
            achievement.evidence = "\n".join(filter(None, [achievement.evidence, evidence]))
            achievement._history_user = recorded_by
            achievement.save(update_fields=["evidence"])
    if new:
        # The enrolments' rows are locked, so nobody else records these at the same moment.
        bulk_create_with_history(new, Achievement, default_user=recorded_by)
    for pair in removing:
        achievement = existing[pair]
        achievement._history_user = recorded_by
        achievement.delete()
        removed_for[pair[0]] += 1
    # The completion rule (``enrolment_evaluate``) for every affected learner at once.
    required_ids = list(required)
    achieved_counts = dict(
        Enrolment.objects.filter(pk__in=enrolment_ids)
        .annotate(n=Count("achievements", filter=Q(achievements__competency_id__in=required_ids)))
        .values_list("pk", "n")
    )
    for pk in sorted(enrolments):
        enrolment = enrolments[pk]
        if enrolment.status == Enrolment.Status.WITHDRAWN:
            continue
        complete = bool(required_ids) and achieved_counts[pk] == len(required_ids)
        if complete and enrolment.status != Enrolment.Status.COMPLETED:
            enrolment_complete(enrolment=enrolment)
        elif not complete and enrolment.status == Enrolment.Status.COMPLETED:
            enrolment_reopen(enrolment=enrolment)
    done = Enrolment.Status.COMPLETED
    by_name = sorted(enrolments.values(), key=lambda e: (e.learner.full_name, e.learner.email))
    return {
        "recorded": sum(recorded_for.values()),
        "removed": sum(removed_for.values()),
        "changes": [
            {"enrolment": e, "recorded": recorded_for[e.pk], "removed": removed_for[e.pk]}
            for e in by_name
            if recorded_for[e.pk] or removed_for[e.pk]
        ],
        "completed": [e for e in by_name if before[e.pk] != done and e.status == done],
        "reopened": [e for e in by_name if before[e.pk] == done and e.status != done],
    }
