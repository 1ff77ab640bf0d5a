"""Reads of the partner portal: the cohorts a person may see, with their counts, pending uploads,
and cohorts' progress. Each selector carries its own
select_related / annotations so a page's query count is decided here and does not grow per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.paginator import Paginator
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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


# --- The cohort's learners: search, filter, sort, pages ---------------------------------------

PAGE_SIZE = 50
STATUS_CHOICES = [(value, label) for value, label in Enrolment.Status.choices]
PROGRESS_CHOICES = [
    ("not_started", _("Not started")),
    ("under_half", _("Under half")),
    ("half_or_more", _("Half or more, not finished")),
    ("complete", _("All competencies shown")),
]
SORT_CHOICES = [
    ("name", _("Name (A to Z)")),
    ("-name", _("Name (Z to A)")),
    ("status", _("Status")),
    ("progress", _("Progress (least first)")),
    ("-progress", _("Progress (most first)")),
]
_STATUS_ORDER = Case(
    *(When(status=value, then=Value(i)) for i, (value, _label) in enumerate(Enrolment.Status.choices)),
    default=Value(len(Enrolment.Status.choices)),
)
_WITHDRAWN_LAST = Case(When(status=Enrolment.Status.WITHDRAWN, then=Value(1)), default=Value(0))


@dataclass
class LearnerListFilters:
    """What the coordinator asked for (GET parameters), each checked against its choices: an
    unknown value is ignored rather than refused, so a shared or old link still opens."""

    q: str = ""
    status: str = ""
    progress: str = ""
    sort: str = "name"
    page: str = "1"

    @classmethod
    def from_query(cls, query) -> LearnerListFilters:
        def pick(name, choices, default=""):
            value = query.get(name, default)
            return value if value in {c for c, _label in choices} else default

        return cls(
            # NUL and other control characters cannot be searched for (PostgreSQL refuses NUL).
            q=" ".join("".join(ch for ch in str(query.get("q", "")) if ch.isprintable()).split())[:NAME_MAX_LENGTH],
            status=pick("status", STATUS_CHOICES),
            progress=pick("progress", PROGRESS_CHOICES),
            sort=pick("sort", SORT_CHOICES, "name"),
            page=str(query.get("page", "1"))[:10],
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.status or self.progress)


@dataclass
class CohortPage:
    cohort: Cohort
    filters: LearnerListFilters
    page: object  # django.core.paginator.Page of Enrolment, each with ``achieved`` and ``certificate_status``
    required: int  # competencies the programme requires
    n_withdrawn: int
    n_pending_invitations: int  # invited learners who have not set up their account

    @property
    def enrolments(self) -> list[Enrolment]:
        return list(self.page.object_list)


def _progress_filter(progress: str, required: int) -> Q:
    if progress == "not_started":
        return Q(achieved=0)
    if progress == "under_half":
        return Q(achieved__gt=0, achieved__lt=(required + 1) // 2)
    if progress == "half_or_more":
        return Q(achieved__gte=(required + 1) // 2, achieved__lt=required)
    if progress == "complete":
        return Q(achieved__gte=required)
    return Q()


def pending_invitations(*, cohort: Cohort) -> QuerySet[Enrolment]:
    """The cohort's invited learners who have not set up their account (a password) yet."""
    return Enrolment.objects.filter(
        cohort=cohort,
        status=Enrolment.Status.INVITED,
        learner__is_active=True,
        learner__password__startswith=UNUSABLE_PASSWORD_PREFIX,
    )


def cohort_page(*, user, cohort_id, query=None) -> CohortPage | None:
    """The cohort's page, in at most SIX queries whatever the cohort's size: the cohort if
    ``user`` may see it (else None), with its programme, partner and ``can_act`` (staff, or a
    coordinator of its organisation); its counts (enrolled, active, completed, certified,
    withdrawn, pending invitations) in one aggregate; the programme's required competencies;
    and one page (``PAGE_SIZE``) of its learners as ``query`` asks (search by name or email,
    filter by status and progress, sort by name, status or progress), each with how many
    required competencies they have shown."""
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
    filters = LearnerListFilters.from_query(query or {})
    status = Enrolment.Status
    counts = Enrolment.objects.filter(cohort=cohort).aggregate(
        n_enrolled=Count("pk", filter=Q(status__in=Enrolment.LIVE_STATUSES)),
        n_active=Count("pk", filter=Q(status__in=[status.INVITED, status.ACTIVE])),
        n_completed=Count("pk", filter=Q(status=status.COMPLETED)),
        n_certified=Count("pk", filter=Q(certificate__status=Certificate.Status.ISSUED)),
        n_withdrawn=Count("pk", filter=Q(status=status.WITHDRAWN)),
        n_pending=Count(
            "pk",
            filter=Q(
                status=status.INVITED,
                learner__is_active=True,
                learner__password__startswith=UNUSABLE_PASSWORD_PREFIX,
            ),
        ),
    )
    cohort.n_enrolled = counts["n_enrolled"]
    cohort.n_active = counts["n_active"]
    cohort.n_completed = counts["n_completed"]
    cohort.n_certified = counts["n_certified"]
    required_ids = list(required_competencies(programme=cohort.programme_id).values_list("pk", flat=True))
    enrolments = cohort_enrolments(cohort=cohort, required_ids=required_ids)
    if filters.q:
        enrolments = enrolments.filter(
            Q(learner__full_name__icontains=filters.q) | Q(learner__email__icontains=filters.q)
        )
    if filters.status:
        enrolments = enrolments.filter(status=filters.status)
    if filters.progress:
        enrolments = enrolments.filter(_progress_filter(filters.progress, len(required_ids)))
    order = {
        "name": [_WITHDRAWN_LAST, "learner__full_name", "pk"],
        "-name": [_WITHDRAWN_LAST, "-learner__full_name", "-pk"],
        "status": [_STATUS_ORDER, "learner__full_name", "pk"],
        "progress": [_WITHDRAWN_LAST, "achieved", "learner__full_name", "pk"],
        "-progress": [_WITHDRAWN_LAST, "-achieved", "learner__full_name", "pk"],
    }[filters.sort]
    page = Paginator(enrolments.order_by(*order), PAGE_SIZE).get_page(filters.page)
    return CohortPage(
        cohort=cohort,
        filters=filters,
        page=page,
        required=len(required_ids),
        n_withdrawn=counts["n_withdrawn"],
        n_pending_invitations=counts["n_pending"],
    )


def cohort_enrolments(*, cohort: Cohort, required_ids: list[int] | None = None) -> QuerySet[Enrolment]:
    """The cohort's learners, live ones first, with the parts of their accounts the page shows,
    their certificate's status and (given the programme's required competencies) ``achieved``:
    how many of those they have shown (one query)."""
    enrolments = (
        Enrolment.objects.filter(cohort=cohort)
        .select_related("learner")
        .only(
            "id",
            "cohort_id",
            "status",
            "withdrawn_at",
            "learner__id",
            "learner__full_name",
            "learner__email",
            "learner__password",
        )
        .annotate(certificate_status=F("certificate__status"))
        .order_by(_WITHDRAWN_LAST, "learner__full_name")
    )
    if required_ids is not None:
        shown = (
            Achievement.objects.filter(enrolment=OuterRef("pk"), competency_id__in=required_ids)
            .order_by()
            .values("enrolment")
            .annotate(n=Count("pk"))
            .values("n")
        )
        enrolments = enrolments.annotate(achieved=Coalesce(Subquery(shown, output_field=IntegerField()), 0))
    return enrolments


def enrolments_chosen(*, cohort: Cohort, enrolment_ids, statuses=None) -> list[Enrolment]:
    """The cohort's enrolments among ``enrolment_ids`` (anything else, or not a number, is left
    out), optionally only those in ``statuses``, by name (one query)."""
    ids = [int(i) for i in enrolment_ids if str(i).isdigit() and len(str(i)) < 12][:1000]
    enrolments = Enrolment.objects.filter(cohort=cohort, pk__in=ids).select_related("learner")
    if statuses:
        enrolments = enrolments.filter(status__in=statuses)
    return list(enrolments.order_by("learner__full_name", "pk"))


# --- An enrolment's history ---------------------------------------------------------------------


@dataclass
class HistoryEntry:
    when: object
    what: str
    by: str


def enrolment_history(*, enrolment: Enrolment) -> list[HistoryEntry]:
    """What happened to the enrolment, newest first: enrolled, accepted the invitation,
    completed, withdrawn, reinstated, each with when and who (one query)."""
    records = list(enrolment.history.select_related("history_user").order_by("history_date", "history_id"))
    entries = []
    previous = None
    for record in records:
        reason = record.history_change_reason or ""
        if record.history_type == "+":
            what = _("Enrolled")
        elif reason == "withdrawn" or (
            record.status == Enrolment.Status.WITHDRAWN and previous != Enrolment.Status.WITHDRAWN
        ):
            what = _("Withdrawn")
        elif reason == "reinstated" or (
            previous == Enrolment.Status.WITHDRAWN and record.status != Enrolment.Status.WITHDRAWN
        ):
            what = _("Reinstated")
        elif record.status != previous:
            what = {
                Enrolment.Status.ACTIVE: _("Taking part"),
                Enrolment.Status.COMPLETED: _("Completed"),
                Enrolment.Status.INVITED: _("Invited"),
            }.get(record.status, record.get_status_display())
        else:
            previous = record.status
            continue
        previous = record.status
        user = record.history_user
        entries.append(HistoryEntry(when=record.history_date, what=what, by=user.full_name if user else ""))
    return list(reversed(entries))


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
