"""State changes of the competency framework and of learners' progress.

Every function here is keyword-only and atomic. Completion is decided in one place,
``enrolment_evaluate``, and announced through one hook, ``enrolment_complete`` (which sends
``programmes.signals.enrolment_completed``).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Achievement, Cohort, Competency, CompetencyDomain, Enrolment, Programme
from .selectors import enrolment_is_complete, required_competencies
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
    Returns whether there was one to remove. An issued certificate is never touched."""
    enrolment = _locked_enrolment(enrolment)
    achievement = Achievement.objects.filter(enrolment=enrolment, competency=competency).first()
    if achievement is None:
        return False
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


@transaction.atomic
@transaction.atomic
def enrolment_create(*, learner, cohort, enrolled_by=None, status: str = Enrolment.Status.INVITED) -> Enrolment:
    """Enrol one learner in a cohort. Refused: a programme not open for enrolment, a cohort with
    no free place (withdrawn learners free theirs), a second live enrolment in the programme.
    The cohort's row is locked, so two people enrolling at once cannot both take the last place."""
    cohort = Cohort.objects.select_for_update(of=("self",)).select_related("programme").get(pk=cohort.pk)
    if cohort.programme.status != Programme.Status.OPEN:
        raise ValidationError(
            _("“%(programme)s” is not open for enrolment at the moment, so nobody can be enrolled in it.")
            % {"programme": cohort.programme},
            code="closed",
        )
    taken = Enrolment.objects.filter(cohort=cohort, status__in=Enrolment.LIVE_STATUSES).count()
    if taken >= cohort.capacity:
        raise ValidationError(
            _("“%(cohort)s” is full: all %(capacity)s places are taken. Give the cohort more places first.")
            % {"cohort": cohort.name, "capacity": cohort.capacity},
            code="full",
        )
    if (
        Enrolment.objects.filter(learner=learner, programme_id=cohort.programme_id)
        .exclude(status=Enrolment.Status.WITHDRAWN)
        .exists()
    ):
        raise ValidationError(
            _("%(learner)s is already enrolled in “%(programme)s”.")
            % {"learner": learner, "programme": cohort.programme},
            code="already_enrolled",
        )
    enrolment = Enrolment(learner=learner, cohort=cohort, programme_id=cohort.programme_id, status=status)
    enrolment.enrolled_by = enrolled_by
    enrolment._history_user = enrolled_by
    enrolment.save()
    return enrolment


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
    enrolment.save(update_fields=["status", "withdrawn_at", "completed_at"])
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
) -> dict[str, list]:
    """Save a facilitator's grid in ONE transaction: each (enrolment id, competency id) in
    ``ticks`` through ``achievement_record`` (with the evidence note), each in ``unticks`` through
    ``achievement_remove``. Everything is checked first, so bad input changes nothing. Returns
    what changed: ``recorded``, ``removed`` (counts) and ``completed`` (enrolments that have just
    completed) / ``reopened``."""
    ticks, unticks = set(ticks), set(unticks)
    if ticks & unticks:
        raise ValidationError(_("The same box was both ticked and unticked. Reload the page and try again."))
    enrolment_ids = {e for e, _c in ticks | unticks}
    # Lock the cohort's affected enrolments once, in a stable order (no deadlocks between facilitators).
    enrolments = {
        e.pk: e
        for e in Enrolment.objects.select_for_update()
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
    competencies = dict(required)
    missing = {c for _e, c in unticks} - set(competencies)
    if missing:
        competencies.update(Competency.objects.in_bulk(missing))
    before = {pk: e.status for pk, e in enrolments.items()}
    recorded = removed = 0
    for enrolment_id, competency_id in sorted(ticks):
        achievement_record(
            enrolment=enrolments[enrolment_id],
            competency=competencies[competency_id],
            recorded_by=recorded_by,
            evidence=evidence,
        )
        recorded += 1
    for enrolment_id, competency_id in sorted(unticks):
        if competency_id in competencies and achievement_remove(
            enrolment=enrolments[enrolment_id], competency=competencies[competency_id], removed_by=recorded_by
        ):
            removed += 1
    after = dict(Enrolment.objects.filter(pk__in=enrolment_ids).values_list("pk", "status"))
    done = Enrolment.Status.COMPLETED
    completed = [enrolments[pk] for pk in sorted(enrolments) if before[pk] != done and after[pk] == done]
    reopened = [enrolments[pk] for pk in sorted(enrolments) if before[pk] == done and after[pk] != done]
    return {"recorded": recorded, "removed": removed, "completed": completed, "reopened": reopened}
