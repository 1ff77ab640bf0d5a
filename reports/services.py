"""Changes to a learner's equality-monitoring answers: answering (with consent), skipping, and
withdrawing consent (which deletes the answers). Each in one transaction; see ``docs/privacy.md``."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import EqualityMonitoringAnswers, EqualityMonitoringInvitation

ANSWER_FIELDS = (
    "age_band",
    "gender",
    "ethnic_group",
    "disability",
    "been_to_university",
    "employment_status",
    "postcode_district",
)


def _outcome_record(*, learner, outcome: str, now) -> None:
    EqualityMonitoringInvitation.objects.update_or_create(
        learner=learner, defaults={"outcome": outcome, "outcome_at": now}
    )


@transaction.atomic
def equality_answers_save(*, learner, answers: dict[str, str], consent: bool) -> EqualityMonitoringAnswers:
    """Store ``learner``'s answers (every field of ``ANSWER_FIELDS``, already validated and
    normalised by the form) with their consent. Without consent nothing is stored (``ValueError``).
    Answering again replaces the answers; consent keeps its first date while it stands."""
    if not consent:
        raise ValueError("Equality-monitoring answers are stored only with the learner's consent.")
    unknown = set(answers) - set(ANSWER_FIELDS)
    if unknown:
        raise ValueError(f"Not equality-monitoring questions: {sorted(unknown)}")
    now = timezone.now()
    row = EqualityMonitoringAnswers.objects.select_for_update().filter(learner=learner).first()
    if row is None:
        row = EqualityMonitoringAnswers(learner=learner, consented_at=now)
    for field in ANSWER_FIELDS:
        setattr(row, field, answers.get(field) or row._meta.get_field(field).get_default())
    row.answered_at = now
    row.full_clean()
    row.save()
    _outcome_record(learner=learner, outcome=EqualityMonitoringInvitation.Outcome.ANSWERED, now=now)
    return row


@transaction.atomic
def equality_monitoring_skip(*, learner) -> None:
    """``learner`` chose not to answer: not asked again. Answers already given are kept (to remove
    them the learner withdraws consent)."""
    if EqualityMonitoringAnswers.objects.filter(learner=learner).exists():
        return
    _outcome_record(learner=learner, outcome=EqualityMonitoringInvitation.Outcome.SKIPPED, now=timezone.now())


@transaction.atomic
def equality_consent_withdraw(*, learner) -> bool:
    """Delete ``learner``'s answers and record that consent was withdrawn (not asked again unless
    they choose to answer again). True if there were answers to delete."""
    deleted, _ = EqualityMonitoringAnswers.objects.filter(learner=learner).delete()
    _outcome_record(learner=learner, outcome=EqualityMonitoringInvitation.Outcome.WITHDRAWN, now=timezone.now())
    return bool(deleted)
