"""Reads of the partner portal: the cohorts a person may see, with their counts, pending uploads,
and cohorts' progress. Each selector carries its own
select_related / annotations so a page's query count is decided here and does not grow per row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import BooleanField, Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from academy.models import User
from certificates.models import Certificate
from partners.models import PartnerMembership, PartnerOrganisation
from partners.selectors import organisations_for
from programmes.models import Achievement, Cohort, Enrolment
from programmes.selectors import required_competencies

from .models import EnrolmentUpload

NAME_MAX_LENGTH = User._meta.get_field("full_name").max_length
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length


# --- Who may see what ---------------------------------------------------------------------------
# Staff run the Academy: they may read and act on every organisation's portal pages as a
# coordinator would. Members read their own organisations'; only coordinators act.


def cohorts_for(*, user, write: bool = False) -> QuerySet[Cohort]:
    """The cohorts ``user`` may see (``write``: act on), with programme and partner loaded."""
    return Cohort.objects.filter(partner__in=organisations_for(user=user, write=write)).select_related(
        "programme", "partner"
    )


def upload_for(*, user, cohort: Cohort, upload_id) -> EnrolmentUpload | None:
    """A pending upload belongs to the person who made it (not to colleagues, not to staff)."""
    return EnrolmentUpload.objects.filter(pk=upload_id, cohort=cohort, uploaded_by=user).first()


# --- The portal's front page --------------------------------------------------------------------

LIVE = Q(enrolments__status__in=Enrolment.LIVE_STATUSES)


def cohorts_with_counts(queryset: QuerySet[Cohort]) -> QuerySet[Cohort]:
    """Enrolled (live), active (invited or taking part), completed and certified (issued) counts."""
    return queryset.annotate(
        n_enrolled=Count("enrolments", filter=LIVE),
        n_active=Count(
            "enrolments", filter=Q(enrolments__status__in=[Enrolment.Status.INVITED, Enrolment.Status.ACTIVE])
        ),
        n_completed=Count("enrolments", filter=Q(enrolments__status=Enrolment.Status.COMPLETED)),
        n_certified=Count("enrolments", filter=Q(enrolments__certificate__status="issued")),
    )


@dataclass
class PortalOrganisation:
    organisation: PartnerOrganisation
    role: str  # "coordinator", "viewer" or "staff"
    current: list[Cohort] = field(default_factory=list)
    past: list[Cohort] = field(default_factory=list)

    @property
    def can_act(self) -> bool:
        return self.role in {"coordinator", "staff"}


def portal_organisations(*, user) -> list[PortalOrganisation]:
    """Every organisation the user may see, with current and past cohorts and their counts.
    Two queries whatever the number of organisations and cohorts."""
    organisations = organisations_for(user=user).annotate(
        my_role=Subquery(PartnerMembership.objects.filter(organisation=OuterRef("pk"), user=user).values("role")[:1])
    )
    result = {
        org.pk: PortalOrganisation(organisation=org, role=org.my_role or ("staff" if user.is_staff else ""))
        for org in organisations
    }
    today = timezone.localdate()
    cohorts = cohorts_with_counts(Cohort.objects.filter(partner_id__in=result.keys()).select_related("programme"))
    for cohort in cohorts.order_by("-starts_on", "name"):
        entry = result[cohort.partner_id]
        (entry.past if cohort.ends_on < today else entry.current).append(cohort)
    return list(result.values())


def cohort_page(*, user, cohort_id) -> tuple[Cohort, list[Enrolment]] | None:
    """The cohort's page in TWO queries: the cohort if ``user`` may see it (else None), with its
    programme, partner and ``can_act`` (staff, or a coordinator of its organisation), and its
    learners (``cohort_enrolments``). The counts ``cohorts_with_counts`` gives the portal's front
    page (enrolled, active, completed, certified) are taken from those same rows, not from a
    second pass over the cohort's enrolments grouped in SQL."""
    if user.is_staff:
        may_act = Value(True, output_field=BooleanField())
    else:
        may_act = Exists(
            PartnerMembership.objects.filter(
                user=user, organisation=OuterRef("partner_id"), role=PartnerMembership.Role.COORDINATOR
            )
        )
    cohort = cohorts_for(user=user).filter(pk=cohort_id).annotate(can_act=may_act).first()
    if cohort is None:
        return None
    enrolments = list(cohort_enrolments(cohort=cohort).annotate(certificate_status=F("certificate__status")))
    statuses = Counter(e.status for e in enrolments)
    cohort.n_enrolled = sum(statuses[s] for s in Enrolment.LIVE_STATUSES)
    cohort.n_active = statuses[Enrolment.Status.INVITED] + statuses[Enrolment.Status.ACTIVE]
    cohort.n_completed = statuses[Enrolment.Status.COMPLETED]
    cohort.n_certified = sum(1 for e in enrolments if e.certificate_status == Certificate.Status.ISSUED)
    return cohort, enrolments


def cohort_enrolments(*, cohort: Cohort) -> QuerySet[Enrolment]:
    """The cohort's learners, live ones first, with the parts of their accounts the page shows
    (one query)."""
    return (
        Enrolment.objects.filter(cohort=cohort)
        .select_related("learner")
        .only("id", "cohort_id", "status", "withdrawn_at", "learner__id", "learner__full_name", "learner__email")
        .order_by(
            # withdrawn learners at the end, kept for history
            Case(When(status=Enrolment.Status.WITHDRAWN, then=Value(1)), default=Value(0)),
            "learner__full_name",
        )
    )


# --- Progress -----------------------------------------------------------------------------------


@dataclass
class DomainCell:
    domain_id: int
    name: str
    achieved: int
    required: int

    @property
    def done(self) -> bool:
        return self.achieved >= self.required


@dataclass
class LearnerProgress:
    enrolment: Enrolment
    cells: list[DomainCell]
    certified: bool

    @property
    def achieved(self) -> int:
        return sum(c.achieved for c in self.cells)

    @property
    def required(self) -> int:
        return sum(c.required for c in self.cells)


@dataclass
class CohortProgress:
    cohort: Cohort
    domains: list[tuple[int, str, int]]  # (id, name, number of required competencies)
    learners: list[LearnerProgress]


def cohort_progress(*, cohort: Cohort) -> CohortProgress:
    """Learners × domains: how many of each domain's required competencies each learner has
    shown. Three queries whatever the cohort's size."""
    required = list(required_competencies(programme=cohort.programme_id))
    domains: dict[int, list] = {}
    for competency in required:
        entry = domains.setdefault(competency.domain_id, [competency.domain_id, competency.domain.name, 0])
        entry[2] += 1
    required_ids = [c.pk for c in required]
    enrolments = list(
        Enrolment.objects.filter(cohort=cohort).select_related("learner", "certificate").order_by("learner__full_name")
    )
    counts: dict[tuple[int, int], int] = {}
    for row in (
        Achievement.objects.filter(enrolment__cohort=cohort, competency_id__in=required_ids)
        .values("enrolment_id", "competency__domain_id")
        .annotate(n=Count("id"))
    ):
        counts[(row["enrolment_id"], row["competency__domain_id"])] = row["n"]
    learners = []
    for enrolment in enrolments:
        cells = [
            DomainCell(domain_id=d_id, name=name, achieved=counts.get((enrolment.pk, d_id), 0), required=n)
            for d_id, name, n in domains.values()
        ]
        certificate = getattr(enrolment, "certificate", None)
        learners.append(
            LearnerProgress(
                enrolment=enrolment, cells=cells, certified=bool(certificate and certificate.status == "issued")
            )
        )
    return CohortProgress(cohort=cohort, domains=[tuple(d) for d in domains.values()], learners=learners)


@dataclass
class DomainDetail:
    name: str
    competencies: list[tuple[object, Achievement | None]]

    @property
    def achieved(self) -> int:
        return sum(1 for _c, a in self.competencies if a is not None)

    @property
    def required(self) -> int:
        return len(self.competencies)


def enrolment_progress(*, enrolment: Enrolment) -> list[DomainDetail]:
    """One learner's required competencies by domain, each with its achievement or None."""
    achievements = {a.competency_id: a for a in Achievement.objects.filter(enrolment=enrolment)}
    details: dict[int, DomainDetail] = {}
    for competency in required_competencies(programme=enrolment.programme_id):
        detail = details.setdefault(competency.domain_id, DomainDetail(name=competency.domain.name, competencies=[]))
        detail.competencies.append((competency, achievements.get(competency.pk)))
    return list(details.values())
