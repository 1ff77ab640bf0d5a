"""Reads for the learner's pages and the public front page."""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from programmes.models import Cohort, Programme

# The front page lists at most this many open programmes, each with its next few cohorts.
HOME_PROGRAMMES = 20
HOME_COHORTS_PER_PROGRAMME = 5


@dataclass
class OpenProgramme:
    programme: Programme
    partners: list
    cohorts: list  # the cohorts still to come or under way, soonest first


def open_programmes() -> list[OpenProgramme]:
    """The programmes open for enrolment, with the partner organisations that run them and their
    cohorts that have not ended yet: 3 queries, however many programmes, partners and cohorts."""
    today = timezone.localdate()
    cohorts: QuerySet[Cohort] = (
        Cohort.objects.filter(ends_on__gte=today)
        .select_related("partner")
        .only("id", "name", "starts_on", "ends_on", "venue", "programme_id", "partner__id", "partner__name")
        .order_by("starts_on", "name", "id")
    )
    programmes = (
        Programme.objects.filter(status=Programme.Status.OPEN)
        .only("id", "title", "slug", "summary", "research_project", "research_project_url")
        .prefetch_related(
            Prefetch("cohorts", queryset=cohorts, to_attr="upcoming_cohorts"),
            "partner_organisations",
        )
        .order_by("title", "id")[:HOME_PROGRAMMES]
    )
    listed = []
    for programme in programmes:
        partners = {p.pk: p for p in sorted(programme.partner_organisations.all(), key=lambda p: p.name.casefold())}
        for cohort in programme.upcoming_cohorts:
            partners.setdefault(cohort.partner.pk, cohort.partner)
        listed.append(
            OpenProgramme(
                programme=programme,
                partners=list(partners.values()),
                cohorts=programme.upcoming_cohorts[:HOME_COHORTS_PER_PROGRAMME],
            )
        )
    return listed
