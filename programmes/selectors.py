"""Reads of the competency framework and learners' progress."""

from dataclasses import dataclass, field

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, When

from .models import Achievement, Competency, CompetencyDomain, Enrolment, Programme


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


# --- Pages' reads: the learner's dashboard, one enrolment, the facilitator's grid ---------------
# Each runs a fixed number of queries, whatever the number of learners or competencies.


@dataclass
class CompetencyProgress:
    competency: Competency
    achievement: Achievement | None

    @property
    def achieved(self) -> bool:
        return self.achievement is not None


@dataclass
class DomainProgress:
    domain: CompetencyDomain
    items: list[CompetencyProgress] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def achieved_count(self) -> int:
        return sum(1 for item in self.items if item.achieved)

    @property
    def percent(self) -> int:
        return round(100 * self.achieved_count / self.total) if self.total else 0

    @property
    def achieved_items(self) -> list[CompetencyProgress]:
        return [item for item in self.items if item.achieved]

    @property
    def missing_items(self) -> list[CompetencyProgress]:
        return [item for item in self.items if not item.achieved]


@dataclass
class EnrolmentProgress:
    enrolment: Enrolment
    core: list[DomainProgress]
    course: list[DomainProgress]

    @property
    def domains(self) -> list[DomainProgress]:
        return [*self.core, *self.course]

    @property
    def total(self) -> int:
        return sum(d.total for d in self.domains)

    @property
    def achieved_count(self) -> int:
        return sum(d.achieved_count for d in self.domains)

    @property
    def percent(self) -> int:
        return round(100 * self.achieved_count / self.total) if self.total else 0

    @property
    def missing_count(self) -> int:
        return self.total - self.achieved_count


def _required_for_programmes(programme_ids: set[int]) -> list[Competency]:
    """Every programme's requirements in ONE query (core domains are shared)."""
    if not programme_ids:
        return []
    return list(
        Competency.objects.filter(is_active=True)
        .filter(Q(domain__is_core=True) | Q(domain__programme_id__in=programme_ids))
        .select_related("domain")
        .order_by("-domain__is_core", "domain__order", "domain__name", "order", "id")
    )


def _progress(enrolment: Enrolment, required: list[Competency], achievements: dict[int, Achievement]):
    core: dict[int, DomainProgress] = {}
    course: dict[int, DomainProgress] = {}
    for competency in required:
        domain = competency.domain
        if not domain.is_core and domain.programme_id != enrolment.programme_id:
            continue
        bucket = core if domain.is_core else course
        if domain.pk not in bucket:
            bucket[domain.pk] = DomainProgress(domain=domain)
        bucket[domain.pk].items.append(CompetencyProgress(competency, achievements.get(competency.pk)))
    return EnrolmentProgress(enrolment=enrolment, core=list(core.values()), course=list(course.values()))


def _enrolments_progress(enrolments: list[Enrolment]) -> list[EnrolmentProgress]:
    required = _required_for_programmes({e.programme_id for e in enrolments})
    by_enrolment: dict[int, dict[int, Achievement]] = {e.pk: {} for e in enrolments}
    if enrolments:
        for achievement in Achievement.objects.filter(enrolment__in=[e.pk for e in enrolments]).select_related(
            "recorded_by"
        ):
            by_enrolment[achievement.enrolment_id][achievement.competency_id] = achievement
    return [_progress(e, required, by_enrolment[e.pk]) for e in enrolments]


def _learner_enrolments() -> QuerySet[Enrolment]:
    return Enrolment.objects.select_related("cohort", "cohort__partner", "programme")


def learner_dashboard(*, learner) -> list[EnrolmentProgress]:
    """The learner's enrolments (live first, newest first) with progress per domain: 3 queries."""
    enrolments = list(
        _learner_enrolments()
        .filter(learner=learner)
        .order_by(
            Case(When(status=Enrolment.Status.WITHDRAWN, then=1), default=0),
            "-cohort__starts_on",
            "-enrolled_at",
        )
    )
    return _enrolments_progress(enrolments)


def learner_enrolment_progress(*, learner, enrolment_id: int) -> EnrolmentProgress | None:
    """One of the learner's own enrolments with progress (None if not theirs): 3 queries."""
    enrolment = _learner_enrolments().filter(learner=learner, pk=enrolment_id).first()
    if enrolment is None:
        return None
    return _enrolments_progress([enrolment])[0]


def cohorts_facilitated(*, user) -> QuerySet:
    """The cohorts this person facilitates, soonest first."""
    from .models import Cohort

    return Cohort.objects.filter(facilitators=user).select_related("programme", "partner").order_by("-starts_on")


def cohort_for_facilitator(*, user, cohort_id: int):
    """The cohort if ``user`` is staff or one of its facilitators, else None (one query)."""
    from .models import Cohort

    cohorts = Cohort.objects.select_related("programme", "partner").filter(pk=cohort_id)
    if not user.is_staff:
        cohorts = cohorts.filter(facilitators=user)
    return cohorts.first()


@dataclass
class GridRow:
    enrolment: Enrolment
    cells: list[tuple[Competency, Achievement | None]]
    achieved_ids: list[int]

    @property
    def achieved_count(self) -> int:
        return len(self.achieved_ids)


@dataclass
class CohortGrid:
    cohort: object
    domains: list[tuple[CompetencyDomain, list[Competency]]]
    competencies: list[Competency]
    rows: list[GridRow]


def cohort_progress_grid(*, cohort) -> CohortGrid:
    """Learners (not withdrawn) × required competencies, grouped by domain (core first), with
    each achievement and who recorded it: 3 queries, whatever the size of the cohort."""
    competencies = list(required_competencies(programme=cohort.programme_id))
    domains: list[tuple[CompetencyDomain, list[Competency]]] = []
    for competency in competencies:
        if not domains or domains[-1][0].pk != competency.domain_id:
            domains.append((competency.domain, []))
        domains[-1][1].append(competency)
    enrolments = list(
        Enrolment.objects.filter(cohort=cohort)
        .exclude(status=Enrolment.Status.WITHDRAWN)
        .select_related("learner")
        .order_by("learner__full_name", "learner__email")
    )
    achieved: dict[tuple[int, int], Achievement] = {}
    if enrolments and competencies:
        required_ids = [c.pk for c in competencies]
        achievements = (
            Achievement.objects.filter(enrolment__cohort=cohort, competency_id__in=required_ids)
            .select_related("recorded_by")
            .only("id", "enrolment_id", "competency_id", "achieved_on", "recorded_by__id", "recorded_by__full_name")
        )
        for a in achievements:
            achieved[(a.enrolment_id, a.competency_id)] = a
    rows = []
    for enrolment in enrolments:
        cells = [(c, achieved.get((enrolment.pk, c.pk))) for c in competencies]
        rows.append(GridRow(enrolment=enrolment, cells=cells, achieved_ids=[c.pk for c, a in cells if a is not None]))
    return CohortGrid(cohort=cohort, domains=domains, competencies=competencies, rows=rows)
