"""Reads of the partner portal: who may see what, cohorts with their counts, checks of learner
lists before anything is written, and cohorts' progress. Each selector carries its own
select_related / annotations so a page's query count is decided here and does not grow per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from academy.models import User
from programmes.models import Achievement, Cohort, Enrolment, Programme
from programmes.selectors import required_competencies

from .models import EnrolmentUpload, PartnerMembership, PartnerOrganisation

NAME_MAX_LENGTH = User._meta.get_field("full_name").max_length
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length


# --- Who may see what ---------------------------------------------------------------------------
# Staff run the Academy: they may read and act on every organisation's portal pages as a
# coordinator would. Members read their own organisations'; only coordinators act.


def is_member(*, user) -> bool:
    return user.is_authenticated and (user.is_staff or user.partner_memberships.exists())


def organisations_for(*, user, write: bool = False) -> QuerySet[PartnerOrganisation]:
    """The organisations whose portal pages ``user`` may see (``write``: act on)."""
    if not user.is_authenticated:
        return PartnerOrganisation.objects.none()
    if user.is_staff:
        return PartnerOrganisation.objects.all()
    memberships = PartnerMembership.objects.filter(user=user)
    if write:
        memberships = memberships.filter(role=PartnerMembership.Role.COORDINATOR)
    return PartnerOrganisation.objects.filter(pk__in=memberships.values("organisation_id"))


def cohorts_for(*, user, write: bool = False) -> QuerySet[Cohort]:
    """The cohorts ``user`` may see (``write``: act on), with programme and partner loaded."""
    return Cohort.objects.filter(partner__in=organisations_for(user=user, write=write)).select_related(
        "programme", "partner"
    )


def can_act(*, user, organisation: PartnerOrganisation) -> bool:
    return (
        user.is_staff
        or PartnerMembership.objects.filter(
            user=user, organisation=organisation, role=PartnerMembership.Role.COORDINATOR
        ).exists()
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


def cohort_with_counts(*, cohort: Cohort) -> Cohort:
    return cohorts_with_counts(Cohort.objects.filter(pk=cohort.pk).select_related("programme", "partner")).get()


def cohort_enrolments(*, cohort: Cohort) -> QuerySet[Enrolment]:
    """The cohort's learners, live ones first, with their accounts (one query)."""
    return (
        Enrolment.objects.filter(cohort=cohort)
        .select_related("learner")
        .order_by(
            # withdrawn learners at the end, kept for history
            Case(When(status=Enrolment.Status.WITHDRAWN, then=Value(1)), default=Value(0)),
            "learner__full_name",
        )
    )


def open_programmes_for(*, organisation: PartnerOrganisation) -> QuerySet[Programme]:
    """Programmes this organisation may run a cohort of: linked to it and open."""
    return Programme.objects.filter(partner_organisations=organisation, status=Programme.Status.OPEN).order_by("title")


def live_enrolment_count(*, cohort: Cohort) -> int:
    return Enrolment.objects.filter(cohort=cohort, status__in=Enrolment.LIVE_STATUSES).count()


# --- Checking a list of learners before enrolling them ----------------------------------------


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
    (the number the coordinator sees), ``email`` and ``full_name``. Returns new dicts adding
    ``errors`` (each a ``field`` and a plain-language ``message``) and ``existing_account``.

    Checks: missing or malformed email, missing or too long name, the same email twice in the
    list, already enrolled in this programme (any cohort), and over capacity (rows beyond the
    cohort's free places). Three queries, whatever the number of rows.
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
        elif len(full_name) > NAME_MAX_LENGTH:
            errors.append(
                _error(
                    "full_name",
                    _("The name is longer than %(max)s characters. Shorten it.") % {"max": NAME_MAX_LENGTH},
                )
            )
        checked.append(
            {"row": raw["row"], "email": email, "full_name": full_name, "errors": errors, "existing_account": False}
        )

    emails = list(first_row_of)
    enrolled = {}
    existing = set()
    if emails:
        for learner_email, cohort_id, cohort_name, partner_id in (
            Enrolment.objects.filter(programme_id=cohort.programme_id, learner__email__in=emails)
            .filter(status__in=Enrolment.LIVE_STATUSES)
            .values_list("learner__email", "cohort_id", "cohort__name", "cohort__partner_id")
        ):
            enrolled[learner_email] = (cohort_id, cohort_name, partner_id)
        existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))

    free = cohort.capacity - live_enrolment_count(cohort=cohort)
    places_used = 0
    for row in checked:
        if row["email"] in existing:
            row["existing_account"] = True
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
                message = _(
                    "%(email)s is already enrolled in “%(programme)s” with another organisation. "
                    "A learner can take a programme only once at a time: delete this row."
                ) % {"email": row["email"], "programme": cohort.programme}
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
