"""Reads of the competency framework, learners' progress, and the enrolment rules' checks."""

from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, When
from django.utils.translation import gettext as _

from academy.models import User
from academy.names import name_clean

from .achievement_locks import locked_enrolment_ids
from .models import Achievement, Cohort, Competency, CompetencyDomain, Enrolment, Programme

NAME_MAX_LENGTH = User._meta.get_field("full_name").max_length
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length


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
    achievement: Achievement | None  # loaded on an enrolment's page; the dashboard only counts
    achieved: bool = False

    def __post_init__(self):
        self.achieved = self.achieved or self.achievement is not None


# Built once, then only read: each figure is computed once per page, however often a template shows it.
@dataclass
class DomainProgress:
    domain: CompetencyDomain
    items: list[CompetencyProgress] = field(default_factory=list)

    @cached_property
    def total(self) -> int:
        return len(self.items)

    @cached_property
    def achieved_count(self) -> int:
        return sum(1 for item in self.items if item.achieved)

    @cached_property
    def percent(self) -> int:
        return round(100 * self.achieved_count / self.total) if self.total else 0

    @cached_property
    def achieved_items(self) -> list[CompetencyProgress]:
        return [item for item in self.items if item.achieved]

    @cached_property
    def missing_items(self) -> list[CompetencyProgress]:
        return [item for item in self.items if not item.achieved]


@dataclass
class EnrolmentProgress:
    enrolment: Enrolment
    core: list[DomainProgress]
    course: list[DomainProgress]

    @cached_property
    def domains(self) -> list[DomainProgress]:
        return [*self.core, *self.course]

    @cached_property
    def total(self) -> int:
        return sum(d.total for d in self.domains)

    @cached_property
    def achieved_count(self) -> int:
        return sum(d.achieved_count for d in self.domains)

    @cached_property
    def percent(self) -> int:
        return round(100 * self.achieved_count / self.total) if self.total else 0

    @cached_property
    def missing_count(self) -> int:
        return self.total - self.achieved_count


def _required_for_programmes(programme_ids: set[int], *, detail: bool) -> list[Competency]:
    """Every programme's requirements in ONE query (core domains are shared). Without ``detail``
    (the dashboard's counts) only what is counted and named is loaded, not the statements."""
    if not programme_ids:
        return []
    competencies = (
        Competency.objects.filter(is_active=True)
        .filter(Q(domain__is_core=True) | Q(domain__programme_id__in=programme_ids))
        .select_related("domain")
        .order_by("-domain__is_core", "domain__order", "domain__name", "order", "id")
    )
    if not detail:
        competencies = competencies.only(
            "id", "domain_id", "domain__id", "domain__name", "domain__is_core", "domain__programme_id"
        )
    return list(competencies)


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
        bucket[domain.pk].items.append(
            CompetencyProgress(competency, achievements.get(competency.pk), achieved=competency.pk in achievements)
        )
    return EnrolmentProgress(enrolment=enrolment, core=list(core.values()), course=list(course.values()))


def _enrolments_progress(enrolments: list[Enrolment], *, detail: bool = True) -> list[EnrolmentProgress]:
    """Progress per domain; with ``detail``, each achievement's date and who recorded it (an
    enrolment's page), without, only which competencies are achieved (the dashboard's counts)."""
    required = _required_for_programmes({e.programme_id for e in enrolments}, detail=detail)
    by_enrolment: dict[int, dict[int, Achievement | None]] = {e.pk: {} for e in enrolments}
    if enrolments:
        achievements = Achievement.objects.filter(enrolment__in=[e.pk for e in enrolments])
        if detail:
            for achievement in achievements.select_related("recorded_by"):
                by_enrolment[achievement.enrolment_id][achievement.competency_id] = achievement
        else:
            for enrolment_id, competency_id in achievements.values_list("enrolment_id", "competency_id"):
                by_enrolment[enrolment_id][competency_id] = None
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
    return _enrolments_progress(enrolments, detail=False)


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


def achievements_locked_message(*, learner) -> str:
    """Why a learner's achievements cannot be undone: their certificate is issued."""
    return _(
        "%(learner)s has been issued a certificate, so the achievements behind it are locked. "
        "Academy staff must revoke the certificate first (with a reason) before any of them can be undone."
    ) % {"learner": learner.full_name or learner.email}


@dataclass(slots=True, frozen=True)
class GridMark:
    """An achievement as the grid shows it: when, and who recorded it."""

    achieved_on: object  # datetime.date
    recorded_by_name: str


@dataclass(slots=True)
class GridCell:
    competency: Competency
    achievement: GridMark | None
    checked: bool  # as drawn: achieved, or ticked in the form being shown again
    locked: bool  # achieved, behind an issued certificate: cannot be unticked


@dataclass
class GridRow:
    enrolment: Enrolment
    cells: list[GridCell]
    achieved_ids: list[int]  # what the page was drawn with (sent back as ``before-<enrolment>``)
    locked: bool = False  # the learner's certificate is issued

    @property
    def achieved_count(self) -> int:
        return len(self.achieved_ids)

    @property
    def checked_count(self) -> int:
        return sum(1 for cell in self.cells if cell.checked)


@dataclass
class CohortGrid:
    cohort: object
    domains: list[tuple[CompetencyDomain, list[Competency]]]
    competencies: list[Competency]
    rows: list[GridRow]
    all_domains: list[CompetencyDomain] = field(default_factory=list)  # for the filter
    domain: CompetencyDomain | None = None  # the filter's choice (None: every domain)

    @property
    def any_locked(self) -> bool:
        return any(row.locked for row in self.rows)

    def show_posted(self, *, posted: set[tuple[int, int]], before: dict[int, list[int]]) -> None:
        """Draw the boxes as the person left them (a form shown again: errors, "go back",
        a whole row or column ticked without JavaScript), with each row's state as first drawn."""
        for row in self.rows:
            e = row.enrolment.pk
            if e in before:
                row.achieved_ids = before[e]
            for cell in row.cells:
                cell.checked = cell.locked or (e, cell.competency.pk) in posted

    def tick_row(self, enrolment_id: int) -> GridRow | None:
        for row in self.rows:
            if row.enrolment.pk == enrolment_id:
                for cell in row.cells:
                    cell.checked = True
                return row
        return None

    def tick_column(self, competency_id: int) -> Competency | None:
        found = None
        for row in self.rows:
            for cell in row.cells:
                if cell.competency.pk == competency_id:
                    cell.checked = True
                    found = cell.competency
        return found or next((c for c in self.competencies if c.pk == competency_id), None)

    def removals(self, unticks: set[tuple[int, int]]) -> list[tuple[GridRow, list[GridCell]]]:
        """The achievements ``unticks`` would undo, by learner (in the grid's order)."""
        found = []
        for row in self.rows:
            cells = [
                c for c in row.cells if c.achievement is not None and (row.enrolment.pk, c.competency.pk) in unticks
            ]
            if cells:
                found.append((row, cells))
        return found


def cohort_progress_grid(*, cohort, domain_id: int | None = None, enrolment_id: int | None = None) -> CohortGrid:
    """Learners (not withdrawn) × required competencies, grouped by domain (core first), with
    each achievement and who recorded it, and which learners' achievements are locked (an issued
    certificate). ``domain_id`` shows one domain's competencies (an unknown one: every domain);
    ``enrolment_id`` one learner (no rows if they are not taking part in this cohort). Four
    queries, whatever the size of the cohort."""
    competencies = list(required_competencies(programme=cohort.programme_id))
    all_domains: list[CompetencyDomain] = []
    for competency in competencies:
        if not all_domains or all_domains[-1].pk != competency.domain_id:
            all_domains.append(competency.domain)
    domain = next((d for d in all_domains if d.pk == domain_id), None)
    if domain is not None:
        competencies = [c for c in competencies if c.domain_id == domain.pk]
    domains: list[tuple[CompetencyDomain, list[Competency]]] = []
    for competency in competencies:
        if not domains or domains[-1][0].pk != competency.domain_id:
            domains.append((competency.domain, []))
        domains[-1][1].append(competency)
    enrolments = (
        Enrolment.objects.filter(cohort=cohort)
        .exclude(status=Enrolment.Status.WITHDRAWN)
        .select_related("learner")
        .order_by("learner__full_name", "learner__email")
    )
    if enrolment_id is not None:
        enrolments = enrolments.filter(pk=enrolment_id)
    enrolments = list(enrolments)
    achieved: dict[tuple[int, int], GridMark] = {}
    if enrolments and competencies:
        # Plain values, not model instances: 800 achievements and their recorders as objects cost
        # more than the rest of the page.
        marks = Achievement.objects.filter(
            enrolment_id__in=[e.pk for e in enrolments], competency_id__in=[c.pk for c in competencies]
        ).values_list("enrolment_id", "competency_id", "achieved_on", "recorded_by__full_name")
        for enrolment_pk, competency_pk, achieved_on, recorded_by_name in marks:
            achieved[(enrolment_pk, competency_pk)] = GridMark(achieved_on, recorded_by_name or "")
    locked = locked_enrolment_ids(e.pk for e in enrolments)
    rows = []
    for enrolment in enrolments:
        is_locked = enrolment.pk in locked
        cells = []
        for c in competencies:
            a = achieved.get((enrolment.pk, c.pk))
            cells.append(GridCell(c, a, a is not None, is_locked and a is not None))
        rows.append(
            GridRow(
                enrolment=enrolment,
                cells=cells,
                achieved_ids=[cell.competency.pk for cell in cells if cell.achievement is not None],
                locked=is_locked,
            )
        )
    return CohortGrid(
        cohort=cohort, domains=domains, competencies=competencies, rows=rows, all_domains=all_domains, domain=domain
    )


# --- The enrolment rules' checks ----------------------------------------------------------------
# One set of rules for every way of enrolling (one learner from the admin or a staff invitation,
# a partner's form, several at once, an upload): ``programmes.services.enrolments_create`` applies
# them under the cohort's row lock; the portal's preview shows the same checks row by row first.


def open_programmes_for(*, organisation) -> QuerySet[Programme]:
    """Programmes this organisation may run a cohort of: linked to it and open."""
    return Programme.objects.filter(partner_organisations=organisation, status=Programme.Status.OPEN).order_by("title")


def live_enrolment_count(*, cohort: Cohort) -> int:
    return Enrolment.objects.filter(cohort=cohort, status__in=Enrolment.LIVE_STATUSES).count()


# --- Checking a list of learners before enrolling them ----------------------------------------


def enrolled_elsewhere_message() -> str:
    """What a coordinator is told about a learner who cannot join because of an enrolment their
    organisation cannot see: the same words whoever runs that enrolment and whatever its status."""
    return _(
        "%(email)s cannot be enrolled in this cohort at the moment. We cannot say why here, because "
        "it concerns the learner’s own record: ask them to contact the Academy, and delete this row "
        "to enrol the others."
    )


def _error(field_name: str | None, message: str) -> dict:
    return {"field": field_name, "message": message}


def enrolment_problem(*, cohort: Cohort) -> str | None:
    """Why nobody can be enrolled in this cohort at the moment, or None."""
    if cohort.programme.status != Programme.Status.OPEN:
        return _("“%(programme)s” is not open for enrolment at the moment, so no learners can be added.") % {
            "programme": cohort.programme
        }
    return None


def enrolment_rows_check(*, cohort: Cohort, rows: list[dict]) -> list[dict]:
    """Check learners to be enrolled in ``cohort``, in order. ``rows`` are dicts with ``row``
    (the number the coordinator sees), ``email`` and ``full_name``. Returns new dicts with the
    email and name as they would be stored, adding ``errors`` (each a ``field`` and a
    plain-language ``message``).

    Checks: missing or malformed email, a missing, too long or unprintable name
    (``academy.names.name_clean``), the same email twice in the list, already enrolled in this
    programme (any cohort), and over capacity (rows beyond the cohort's free places). Two queries,
    whatever the number of rows.

    What the rows say is only what the cohort's organisation may know (the preview shows it to its
    coordinator): never whether an address has an account (staff or anyone), and nothing about
    other organisations. A learner already in one of the organisation's own cohorts of this
    programme is named with that cohort; one enrolled in it with another organisation gets
    ``enrolled_elsewhere_message()``, which names neither the organisation, nor its cohort, nor the
    enrolment's status.
    """
    checked = []
    first_row_of: dict[str, int] = {}
    for raw in rows:
        email = " ".join(str(raw.get("email") or "").split()).lower()
        full_name = " ".join(str(raw.get("full_name") or "").split())
        errors = []
        if not email:
            errors.append(_error("email", _("The email address is missing. Add it, or delete this row.")))
        else:
            try:
                if len(email) > EMAIL_MAX_LENGTH:
                    raise ValidationError("too long")
                validate_email(email)
            except ValidationError:
                errors.append(
                    _error(
                        "email",
                        _(
                            "“%(email)s” is not a valid email address. Check it for typing mistakes, "
                            "such as a missing “@” or “.”, or a space."
                        )
                        % {"email": email},
                    )
                )
            else:
                if email in first_row_of:
                    errors.append(
                        _error(
                            "email",
                            _(
                                "This email address is also on row %(row)s. Each learner can be listed only "
                                "once: delete one of the two rows."
                            )
                            % {"row": first_row_of[email]},
                        )
                    )
                else:
                    first_row_of[email] = raw["row"]
        if not full_name:
            errors.append(
                _error(
                    "full_name",
                    _("The full name is missing. Add the learner’s name as it should appear on their certificate."),
                )
            )
        else:
            try:
                full_name = name_clean(full_name)
            except ValidationError as exc:
                errors.extend(_error("full_name", message) for message in exc.messages)
            else:
                if len(full_name) > NAME_MAX_LENGTH:
                    errors.append(
                        _error(
                            "full_name",
                            _("The name is longer than %(max)s characters. Shorten it.") % {"max": NAME_MAX_LENGTH},
                        )
                    )
        checked.append({"row": raw["row"], "email": email, "full_name": full_name, "errors": errors})

    emails = list(first_row_of)
    enrolled = {}
    if emails:
        for learner_email, cohort_id, cohort_name, partner_id in (
            Enrolment.objects.filter(programme_id=cohort.programme_id, learner__email__in=emails)
            .filter(status__in=Enrolment.LIVE_STATUSES)
            .values_list("learner__email", "cohort_id", "cohort__name", "cohort__partner_id")
        ):
            enrolled[learner_email] = (cohort_id, cohort_name, partner_id)

    free = cohort.capacity - live_enrolment_count(cohort=cohort)
    places_used = 0
    for row in checked:
        if row["errors"]:
            continue
        if row["email"] in enrolled:
            cohort_id, cohort_name, partner_id = enrolled[row["email"]]
            if cohort_id == cohort.pk:
                message = _("%(email)s is already in this cohort. Delete this row.") % {"email": row["email"]}
            elif partner_id == cohort.partner_id:
                message = _(
                    "%(email)s is already enrolled in “%(programme)s”, in your cohort “%(cohort)s”. "
                    "A learner can take a programme only once at a time: delete this row, or withdraw "
                    "them from the other cohort first."
                ) % {"email": row["email"], "programme": cohort.programme, "cohort": cohort_name}
            else:
                message = enrolled_elsewhere_message() % {"email": row["email"]}
            row["errors"].append(_error("email", message))
            continue
        if places_used >= free:
            row["errors"].append(
                _error(
                    None,
                    _(
                        "No place is left for this learner: the cohort has %(capacity)s places, "
                        "%(taken)s already taken, so only the first %(free)s learners in this list fit. "
                        "Raise the number of places on the cohort, or delete rows."
                    )
                    % {"capacity": cohort.capacity, "taken": cohort.capacity - free, "free": max(free, 0)},
                )
            )
            continue
        places_used += 1
    return checked
