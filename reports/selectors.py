"""Reads for the staff reports and each partner organisation's report.

Every figure is an aggregate computed by the database: a report runs a fixed number of queries,
whatever the number of learners, cohorts or certificates (``reports/tests/test_reports_pages.py``
asserts it for two sizes of data). What each figure means is written in ``docs/reports.md``.

- The **funnel** counts the enrolments made in the period (``enrolled_at``) by where they are now:
  invited (every enrolment, since everyone starts invited), taking part (now taking part or
  completed), completed, certified (an issued certificate), and withdrawn.
- The **completion rate** is completed ÷ invited (everyone enrolled in the period).
- The **median days to certificate** is from enrolment to the certificate's issue, over those
  enrolments with a certificate that was issued (revoked ones included: they were issued).
- **Competencies shown per domain** counts achievements recorded with a date in the period.
- **Certificates issued and revoked per month** count certificates by the month of their issue
  and of their revocation in the period.
- **Reach** (equality monitoring, suppressed) counts the chosen cohorts' learners whenever they
  enrolled, never a period's (see ``reach``).
- **Stalled learners** are a list as of today, not of the period: taking part, enrolled more than
  four weeks ago, and no competency shown (achievement dated) in the last four weeks.
"""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Extract, TruncMonth
from django.utils import timezone

from certificates.models import Certificate
from partners.models import PartnerOrganisation
from programmes.models import Achievement, Cohort, Competency, Enrolment, Programme

STALLED_AFTER = datetime.timedelta(weeks=4)
STALLED_SHOWN = 100  # the page lists the longest-stalled first
STALLED_DOWNLOADED = 2_000  # and the downloads this many (choose a programme or cohort for the rest)


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``: the
    continuous percentile (0.5: the median) of ``expression``, interpolated between values."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, *, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("The fraction of a percentile is between 0 and 1.")
        super().__init__(expression, fraction=float(fraction), **extra)

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor != "postgresql":
            from django.db import NotSupportedError

            raise NotSupportedError("percentile_cont needs PostgreSQL.")
        return super().as_sql(compiler, connection, **extra_context)


# --- What a report is about --------------------------------------------------------------------


@dataclass(frozen=True)
class ReportScope:
    """The period (both days included) and the cohorts a report covers. ``organisation`` is set
    for a partner's own report: nothing outside its cohorts is ever counted."""

    start: datetime.date
    end: datetime.date
    programme: Programme | None = None
    partner: PartnerOrganisation | None = None
    cohort: Cohort | None = None
    organisation: PartnerOrganisation | None = None

    @property
    def start_at(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.start, datetime.time.min))

    @property
    def end_before(self) -> datetime.datetime:
        """The first moment after the period (the day after ``end``, at midnight)."""
        return timezone.make_aware(datetime.datetime.combine(self.end + datetime.timedelta(days=1), datetime.time.min))

    def enrolment_filter(self, prefix: str = "") -> Q:
        """The cohorts chosen, as a condition on enrolments (``prefix``: the path to the enrolment
        from another model, such as ``"enrolment__"``)."""
        condition = Q()
        if self.organisation is not None:
            condition &= Q(**{f"{prefix}cohort__partner_id": self.organisation.pk})
        if self.partner is not None:
            condition &= Q(**{f"{prefix}cohort__partner_id": self.partner.pk})
        if self.programme is not None:
            condition &= Q(**{f"{prefix}programme_id": self.programme.pk})
        if self.cohort is not None:
            condition &= Q(**{f"{prefix}cohort_id": self.cohort.pk})
        return condition

    def enrolments(self) -> QuerySet[Enrolment]:
        """The enrolments of the chosen cohorts (any date)."""
        return Enrolment.objects.filter(self.enrolment_filter())

    def enrolments_in_period(self) -> QuerySet[Enrolment]:
        """The enrolments of the chosen cohorts made in the period: the funnel's, and the reach's."""
        return self.enrolments().filter(enrolled_at__gte=self.start_at, enrolled_at__lt=self.end_before)

    def months(self) -> list[datetime.date]:
        """The first day of every month the period touches."""
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = (month + datetime.timedelta(days=32)).replace(day=1)
        return months


# --- The figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    invited: int
    taking_part: int
    completed: int
    certified: int
    withdrawn: int
    median_days_to_certificate: float | None

    @property
    def completion_rate(self) -> float | None:
        """Completed ÷ invited, or None when nobody was enrolled."""
        return self.completed / self.invited if self.invited else None

    def stages(self) -> list[tuple[str, int]]:
        from django.utils.translation import gettext as _

        return [
            (_("Invited"), self.invited),
            (_("Taking part"), self.taking_part),
            (_("Completed"), self.completed),
            (_("Certified"), self.certified),
            (_("Withdrawn"), self.withdrawn),
        ]


def _days_to_certificate():
    return ExpressionWrapper(F("certificate__issued_at") - F("enrolled_at"), output_field=DurationField())


def funnel(scope: ReportScope) -> Funnel:
    """The funnel and the median days to certificate: one aggregate query on PostgreSQL (on the
    embedded SQLite, which has no percentile, a second query reads the durations)."""
    statuses = Enrolment.Status
    has_certificate = Q(certificate__issued_at__isnull=False)
    aggregates = {
        "invited": Count("pk"),
        "taking_part": Count("pk", filter=Q(status__in=[statuses.ACTIVE, statuses.COMPLETED])),
        "completed": Count("pk", filter=Q(status=statuses.COMPLETED)),
        "certified": Count("pk", filter=Q(certificate__status=Certificate.Status.ISSUED)),
        "withdrawn": Count("pk", filter=Q(status=statuses.WITHDRAWN)),
    }
    enrolments = scope.enrolments_in_period()
    postgres = connection.vendor == "postgresql"
    if postgres:
        aggregates["median_days"] = PercentileCont(
            Extract(_days_to_certificate(), "epoch") / 86400.0, fraction=0.5, filter=has_certificate
        )
    figures = enrolments.aggregate(**aggregates)
    if postgres:
        median = figures.pop("median_days")
    else:
        durations = [
            duration.total_seconds() / 86400
            for duration in enrolments.filter(has_certificate)
            .annotate(duration=_days_to_certificate())
            .values_list("duration", flat=True)
        ]
        median = statistics.median(durations) if durations else None
    return Funnel(**figures, median_days_to_certificate=None if median is None else round(median, 1))


@dataclass(frozen=True)
class DomainRow:
    domain: str
    is_core: bool
    achievements: int


def competencies_by_domain(scope: ReportScope) -> list[DomainRow]:
    """Achievements dated in the period, per competency domain (core domains first). Two queries:
    the achievements counted per competency (an integer key, no join for the whole Academy), then
    the few domains of those competencies, added up here. (Grouping the achievements by the
    domain's name and order in the same scan took 60 % longer on 300,000 achievements; a count of
    distinct learners per domain doubled it.)"""
    per_competency = dict(
        Achievement.objects.filter(
            scope.enrolment_filter("enrolment__"), achieved_on__gte=scope.start, achieved_on__lte=scope.end
        )
        .values("competency_id")
        .annotate(achievements=Count("pk"))
        .order_by()
        .values_list("competency_id", "achievements")
    )
    if not per_competency:
        return []
    domains: dict[int, dict] = {}
    competencies = (
        Competency.objects.filter(pk__in=per_competency)
        .order_by("-domain__is_core", "domain__order", "domain__name", "domain_id")  # the database's collation
        .values("pk", "domain_id", "domain__name", "domain__is_core")
    )
    for competency in competencies:  # dicts keep the order in which domains first come
        domain = domains.setdefault(competency["domain_id"], {**competency, "achievements": 0})
        domain["achievements"] += per_competency[competency["pk"]]
    return [
        DomainRow(domain=row["domain__name"], is_core=row["domain__is_core"], achievements=row["achievements"])
        for row in domains.values()
    ]


@dataclass(frozen=True)
class MonthRow:
    month: datetime.date
    issued: int
    revoked: int


def certificates_by_month(scope: ReportScope) -> list[MonthRow]:
    """Certificates issued, and revoked, in each month of the period (every month listed, zeros
    included). Two queries."""
    certificates = Certificate.objects.filter(scope.enrolment_filter("enrolment__"))

    def per_month(field_name: str) -> dict[datetime.date, int]:
        rows = (
            certificates.filter(**{f"{field_name}__gte": scope.start_at, f"{field_name}__lt": scope.end_before})
            .annotate(month=TruncMonth(field_name))
            .values("month")
            .annotate(count=Count("pk"))
            .order_by()
        )
        return {timezone.localtime(row["month"]).date(): row["count"] for row in rows}

    issued, revoked = per_month("issued_at"), per_month("revoked_at")
    return [
        MonthRow(month=month, issued=issued.get(month, 0), revoked=revoked.get(month, 0)) for month in scope.months()
    ]


@dataclass(frozen=True)
class StalledLearner:
    enrolment_id: int
    cohort_id: int
    learner_name: str
    learner_email: str
    cohort_name: str
    programme_title: str
    partner_name: str
    enrolled_at: datetime.datetime
    last_achieved_on: datetime.date | None
    days_since: int  # since the last competency shown, or since enrolling when none has been


def stalled_enrolments(scope: ReportScope, *, today: datetime.date | None = None) -> QuerySet[Enrolment]:
    """Enrolments of the chosen cohorts taking part today, enrolled more than four weeks ago, with
    no achievement dated in the last four weeks (an anti-join on the (enrolment, day) index), each
    with the day of its latest achievement (None: none yet)."""
    today = today or timezone.localdate()
    cutoff = today - STALLED_AFTER
    cutoff_at = timezone.make_aware(datetime.datetime.combine(cutoff, datetime.time.min))
    recent = Achievement.objects.filter(enrolment=OuterRef("pk"), achieved_on__gte=cutoff)
    latest = Achievement.objects.filter(enrolment=OuterRef("pk")).order_by("-achieved_on").values("achieved_on")[:1]
    return (
        scope.enrolments()
        .filter(status=Enrolment.Status.ACTIVE, enrolled_at__lt=cutoff_at)
        .filter(~Exists(recent))
        .annotate(last_achieved_on=Subquery(latest))
    )


def stalled_learners(
    scope: ReportScope, *, limit: int | None = STALLED_SHOWN, today: datetime.date | None = None
) -> tuple[list[StalledLearner], int]:
    """The stalled learners (the first ``limit``, or all with None), longest-stalled first, and
    how many there are. Two queries: the enrolments chosen and ordered (no join), with how many
    there are in all (a window count over the same scan, before the limit), and their learners' and
    cohorts' details."""
    today = today or timezone.localdate()
    enrolments = stalled_enrolments(scope, today=today)
    if limit == 0:  # nobody listed: only how many
        return [], enrolments.order_by().count()
    chosen = (
        enrolments.annotate(stalled_total=Window(Count("pk")))
        .order_by(F("last_achieved_on").asc(nulls_first=True), "enrolled_at", "pk")
        .values_list("pk", "last_achieved_on", "stalled_total")
    )
    if limit is not None:
        chosen = chosen[:limit]
    rows = list(chosen)
    total = rows[0][2] if rows else 0
    chosen = [(pk, day) for pk, day, _total in rows]
    details = (
        {
            row["pk"]: row
            for row in Enrolment.objects.filter(pk__in=[pk for pk, _day in chosen])
            .order_by()
            .values(
                "pk",
                "cohort_id",
                "learner__full_name",
                "learner__email",
                "cohort__name",
                "programme__title",
                "cohort__partner__name",
                "enrolled_at",
            )
        }
        if chosen
        else {}
    )  # unordered: the order is ``chosen``'s (the model's ordering would sort by cohort and name for nothing)
    learners = []
    for pk, last_achieved_on in chosen:
        row = details[pk]
        since = last_achieved_on or timezone.localtime(row["enrolled_at"]).date()
        learners.append(
            StalledLearner(
                enrolment_id=pk,
                cohort_id=row["cohort_id"],
                learner_name=row["learner__full_name"],
                learner_email=row["learner__email"],
                cohort_name=row["cohort__name"],
                programme_title=row["programme__title"],
                partner_name=row["cohort__partner__name"],
                enrolled_at=row["enrolled_at"],
                last_achieved_on=last_achieved_on,
                days_since=(today - since).days,
            )
        )
    return learners, total


@dataclass(frozen=True)
class WeekRow:
    week: datetime.date  # the Monday
    lookups: int  # the public verification page, by code or QR code
    credential_lookups: int  # the credential's JSON, fetched by verifiers
    file_checks: int  # files checked on the file-check page


def verification_by_week(scope: ReportScope) -> list[WeekRow] | None:
    """Verification look-ups and file checks per week, every week of the period (zeros included):
    Academy-wide, since the counter (``certificates.selectors.verification_counts_per_week``) keeps
    only a number per week and kind, nothing about whose certificate or who asked. One query. None
    when the counter is not installed."""
    try:
        from certificates.selectors import verification_counts_per_week
    except ImportError:  # the counter comes with another part of this change
        return None
    counted = {row["week_starting"]: row for row in verification_counts_per_week(scope.start, scope.end)}
    weeks, week = [], scope.start - datetime.timedelta(days=scope.start.weekday())
    while week <= scope.end:
        row = counted.get(week, {})
        weeks.append(
            WeekRow(
                week=week,
                lookups=row.get("verify_page", 0),
                credential_lookups=row.get("credential_json", 0),
                file_checks=row.get("file_check", 0),
            )
        )
        week += datetime.timedelta(weeks=1)
    return weeks


def reach(scope: ReportScope):
    """The equality-monitoring counts, already suppressed (``reports.selectors_reach``): one table
    per question and one of postcode districts, in one query (``reach_everything``).

    Of the chosen cohorts' learners whenever they enrolled, NOT of the period: a period can be
    moved a day at a time, and two tables whose populations differ by one learner would give that
    learner's answers away by comparison; whole cohorts, programmes and organisations change in
    steps of whole groups."""
    from reports.selectors_reach import reach_everything

    return reach_everything(enrolments=scope.enrolments())


@dataclass
class Report:
    scope: ReportScope
    funnel: Funnel
    domains: list[DomainRow]
    certificates: list[MonthRow]
    stalled: list[StalledLearner]
    stalled_total: int
    verification: list[WeekRow] | None = None
    reach: object = None
    today: datetime.date = field(default_factory=timezone.localdate)


def report(scope: ReportScope, *, verification: bool = True, stalled_limit: int | None = STALLED_SHOWN) -> Report:
    """Every figure of a report. ``verification``: include the Academy-wide verification counts
    (staff reports; a partner's report leaves them out)."""
    today = timezone.localdate()
    stalled, stalled_total = stalled_learners(scope, limit=stalled_limit, today=today)
    return Report(
        scope=scope,
        funnel=funnel(scope),
        domains=competencies_by_domain(scope),
        certificates=certificates_by_month(scope),
        stalled=stalled,
        stalled_total=stalled_total,
        verification=verification_by_week(scope) if verification else None,
        reach=reach(scope),
        today=today,
    )
