"""Reads of the competency framework and learners' progress."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from .models import Achievement, Competency, Enrolment, Programme


def required_competencies(*, programme: Programme | int) -> QuerySet[Competency]:
    """Every active competency of every core domain and of the programme's own domains."""
    programme_id = programme.pk if isinstance(programme, Programme) else programme
    return (
        Competency.objects.filter(is_active=True)
        .filter(Q(domain__is_core=True) | Q(domain__programme_id=programme_id))
        .select_related("domain")
        .order_by("-domain__is_core", "domain__order", "domain__name", "order", "id")
    )


def enrolment_missing_competencies(*, enrolment: Enrolment) -> QuerySet[Competency]:
    """The required competencies this enrolment has no achievement for yet."""
    achieved = Achievement.objects.filter(enrolment=enrolment, competency=OuterRef("pk"))
    return required_competencies(programme=enrolment.programme_id).filter(~Exists(achieved))


def enrolment_is_complete(*, enrolment: Enrolment) -> bool:
    """True when the programme requires something and every requirement has an achievement."""
    required = required_competencies(programme=enrolment.programme_id)
    return required.exists() and not enrolment_missing_competencies(enrolment=enrolment).exists()
