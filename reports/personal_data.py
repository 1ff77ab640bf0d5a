"""The reports app's part of a person's data export (see ``academy.personal_data``): their own
equality-monitoring answers and whether they were asked."""

from academy.personal_data import section, when

from .models import EqualityMonitoringAnswers, EqualityMonitoringInvitation
from .services import ANSWER_FIELDS


@section("equality_monitoring")
def equality_monitoring(user) -> dict:
    answers = EqualityMonitoringAnswers.objects.filter(learner=user).first()
    invitation = EqualityMonitoringInvitation.objects.filter(learner=user).first()
    return {
        "answers": (
            {
                "consented_at": when(answers.consented_at),
                "answered_at": when(answers.answered_at),
                **{field: getattr(answers, field) for field in ANSWER_FIELDS},
            }
            if answers
            else None
        ),
        "asked": (
            {
                "asked_at": when(invitation.asked_at),
                "outcome": invitation.outcome,
                "recorded": when(invitation.outcome_at),
            }
            if invitation
            else None
        ),
    }
