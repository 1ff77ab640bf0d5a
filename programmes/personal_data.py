"""The programmes app's part of a person's data export (see ``academy.personal_data``)."""

from academy.personal_data import section, when

from .models import Achievement, Enrolment
from .selectors import cohorts_facilitated


@section("cohorts_facilitated")
def facilitated(user) -> list[dict]:
    return [{"cohort": c.name, "programme": c.programme.title} for c in cohorts_facilitated(user=user)]


@section("enrolments")
def enrolments(user) -> list[dict]:
    achievements: dict[int, list] = {}
    for a in Achievement.objects.filter(enrolment__learner=user).select_related("competency", "recorded_by"):
        achievements.setdefault(a.enrolment_id, []).append(
            {
                "competency": a.competency.statement,
                "achieved_on": when(a.achieved_on),
                "recorded_by": a.recorded_by.full_name if a.recorded_by else None,
                "evidence": a.evidence,
            }
        )
    return [
        {
            "programme": e.programme.title,
            "cohort": e.cohort.name,
            "partner": e.cohort.partner.name,
            "venue": e.cohort.venue,
            "starts_on": when(e.cohort.starts_on),
            "ends_on": when(e.cohort.ends_on),
            "status": e.status,
            "enrolled_at": when(e.enrolled_at),
            "completed_at": when(e.completed_at),
            "withdrawn_at": when(e.withdrawn_at),
            "achievements": achievements.get(e.pk, []),
        }
        for e in Enrolment.objects.filter(learner=user).select_related("cohort", "cohort__partner", "programme")
    ]
