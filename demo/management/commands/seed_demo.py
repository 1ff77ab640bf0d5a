"""Fill Academy with a realistic demo: the competency framework, three programmes, three partners,
cohorts past, present and upcoming, learners at every stage, and one account per role.

Idempotent: everything is found by its natural key (emails, slugs, names), so running it again
changes no counts. Learners' progress is recorded through ``programmes.services``, so completion
(and the certificate it requests) happens the real way. ``--learners N`` scales the learners: the
first 45 are enrolled one by one through the services; any beyond that are bulk-created and
completed by one pass of ``programmes.services.enrolments_reevaluate`` (fast enough for 5,000).
"""

import datetime
import random
import time
import unicodedata
from contextlib import contextmanager

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from demo.data import (
    BULK_GROUP_SIZE,
    COHORTS,
    CORE_DOMAINS,
    DEMO_PASSWORD,
    FIRST_NAMES,
    LAST_NAMES,
    LEARNER_DOMAIN,
    PARTNERS,
    PROGRAMMES,
    ROLE_DESCRIPTIONS,
    ROLE_USERS,
    SEED,
    SERVICE_LEARNERS,
    STAFF_APPS,
    STAFF_GROUP,
    STAGES,
    VENUES,
)
from partners.models import PartnerMembership, PartnerOrganisation
from programmes import services
from programmes.models import Achievement, Cohort, Competency, CompetencyDomain, Enrolment, Programme
from programmes.selectors import required_competencies

User = get_user_model()


def sync(model, defaults: dict, **lookup):
    """Like ``update_or_create``, but saves only what differs, so an unchanged row gets no new
    history record and a second run leaves every count (history included) as it was."""
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        return model._default_manager.create(**lookup, **defaults), True
    changed = [field for field, value in defaults.items() if getattr(obj, field) != value]
    for field in changed:
        setattr(obj, field, defaults[field])
    if changed:
        obj.save(update_fields=changed)
    return obj, False


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isalnum() and c.isascii()).lower()


def learner_identity(index: int) -> tuple[str, str]:
    """The demo learner number ``index``: the same name and email whatever ``--learners`` says."""
    rng = random.Random(f"{SEED}-learner-{index}")
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return f"{_ascii(first)}.{_ascii(last)}.{index + 1}@{LEARNER_DOMAIN}", f"{first} {last}"


class Command(BaseCommand):
    help = "Fill Academy with demo data (idempotent) and print the demo accounts' credentials."

    def add_arguments(self, parser):
        parser.add_argument(
            "--learners",
            type=int,
            default=SERVICE_LEARNERS,
            help="How many demo learners to create (default 45; thousands for load tests).",
        )

    def handle(self, *args, learners: int, verbosity: int = 1, **options):
        learners = max(0, learners)
        self.verbosity = verbosity
        self.today = timezone.localdate()
        self.password_hash = make_password(DEMO_PASSWORD)  # hashed once: hashing is slow on purpose
        with (
            self._phase("total, including the commit and what runs after it"),
            transaction.atomic(),
        ):
            with self._phase("accounts, partners, framework, programmes, cohorts"):
                self.users = self._role_users()
                self.partners = self._partners()
                self.programmes = self._framework_and_programmes()
                self.cohorts = self._cohorts()
            with self._phase(f"{min(learners, SERVICE_LEARNERS) + 1} learners through the services"):
                self._role_learner()
                for index in range(min(learners, SERVICE_LEARNERS)):
                    self._service_learner(index)
            if learners > SERVICE_LEARNERS:
                self._bulk_learners(range(SERVICE_LEARNERS, learners))
        self._report(learners)

    @contextmanager
    def _phase(self, name: str):
        """Time a phase; ``-v 2`` prints the figures (the load benchmark reads them)."""
        start = time.monotonic()
        yield
        if self.verbosity >= 2:
            self.stdout.write(f"  {name}: {time.monotonic() - start:.1f} s")

    # --- People and organisations -------------------------------------------------------------

    def _user(self, email: str, full_name: str, *, invited: bool = False, role: bool = False, **flags) -> User:
        """Find or create a demo account. Role accounts always get the demo password back;
        learners keep whatever they set."""
        user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name, **flags})
        changed = [f for f, v in flags.items() if getattr(user, f) != v]
        for field in changed:
            setattr(user, field, flags[field])
        if invited:
            if created:
                user.set_unusable_password()
                changed.append("password")
        elif created or role:
            user.password = self.password_hash
            changed.append("password")
        if changed:
            user.save(update_fields=changed)
        if not invited:
            EmailAddress.objects.update_or_create(
                user=user, email=user.email, defaults={"verified": True, "primary": True}
            )
        return user

    def _role_users(self) -> dict[str, User]:
        users = {
            key: self._user(email, name, role=True, is_staff=staff, is_superuser=superuser)
            for key, email, name, staff, superuser in ROLE_USERS
        }
        group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
        group.permissions.set(Permission.objects.filter(content_type__app_label__in=STAFF_APPS))
        users["staff"].groups.add(group)
        return users

    def _partners(self) -> dict[str, PartnerOrganisation]:
        partners = {}
        for spec in PARTNERS:
            partner, _ = sync(
                PartnerOrganisation,
                slug=spec["slug"],
                defaults={"name": spec["name"], "kind": spec["kind"], "contact_email": spec["contact_email"]},
            )
            partners[spec["slug"]] = partner
        riverside = partners["riverside-community-action"]
        for key, role in (
            ("coordinator", PartnerMembership.Role.COORDINATOR),
            ("viewer", PartnerMembership.Role.VIEWER),
        ):
            sync(PartnerMembership, user=self.users[key], organisation=riverside, defaults={"role": role})
        return partners

    # --- Framework and programmes ---------------------------------------------------------------

    def _competencies(self, domain: CompetencyDomain, statements: list[str]) -> None:
        for order, statement in enumerate(statements, start=1):
            competency = Competency.objects.filter(domain=domain, statement=statement).first()
            if competency is None:
                competency = Competency(domain=domain, statement=statement, order=order)
                services.competency_save(competency=competency, changed_by=self.users["staff"])

    def _framework_and_programmes(self) -> dict[str, Programme]:
        for order, (name, description, statements) in enumerate(CORE_DOMAINS, start=1):
            domain = CompetencyDomain.objects.filter(is_core=True, name=name).first()
            if domain is None:
                domain = CompetencyDomain(name=name, description=description, is_core=True, order=order)
                services.domain_save(domain=domain, changed_by=self.users["staff"])
            self._competencies(domain, statements)
        programmes = {}
        for spec in PROGRAMMES:
            fields = {
                k: spec[k]
                for k in (
                    "title",
                    "summary",
                    "research_project",
                    "research_project_url",
                    "certificate_wording",
                    "signatory_name",
                    "signatory_title",
                )
            }
            programme, _ = sync(Programme, slug=spec["slug"], defaults={**fields, "status": Programme.Status.OPEN})
            programme.partner_organisations.set([self.partners[s] for s in spec["partners"]])
            for order, (name, statements) in enumerate(spec["domains"], start=101):
                domain = CompetencyDomain.objects.filter(programme=programme, name=name).first()
                if domain is None:
                    domain = CompetencyDomain(name=name, programme=programme, is_core=False, order=order)
                    services.domain_save(domain=domain, changed_by=self.users["staff"])
                self._competencies(domain, statements)
            programmes[spec["slug"]] = programme
        return programmes

    def _dates(self, timing: str, offset_weeks: int = 0) -> tuple[datetime.date, datetime.date]:
        start_weeks = {"past": -30, "current": -5, "upcoming": 3}[timing] + offset_weeks
        starts_on = self.today + datetime.timedelta(weeks=start_weeks)
        return starts_on, starts_on + datetime.timedelta(weeks=10)

    def _cohort(self, programme, partner, name, timing, venue, capacity=20, offset_weeks=0) -> Cohort:
        starts_on, ends_on = self._dates(timing, offset_weeks)
        cohort, created = sync(
            Cohort,
            programme=programme,
            partner=partner,
            name=name,
            defaults={"starts_on": starts_on, "ends_on": ends_on, "venue": venue, "capacity": capacity},
        )
        if created:
            cohort.created_by = self.users["staff"]
            cohort.save(update_fields=["created_by"])
        cohort.timing = timing
        return cohort

    def _cohorts(self) -> list[Cohort]:
        cohorts = [
            self._cohort(self.programmes[prog], self.partners[part], name, timing, venue)
            for prog, part, name, timing, venue in COHORTS
        ]
        # The facilitator runs the Riverside poverty cohorts and the Greenway sensor team.
        facilitator = self.users["facilitator"]
        runs = {"Riverside Tuesday evenings", "Riverside Saturday mornings", "Greenway estate sensor team"}
        for cohort in cohorts:
            if cohort.name in runs and not cohort.facilitators.filter(pk=facilitator.pk).exists():
                cohort.facilitators.add(facilitator)
        return cohorts

    # --- Learners -------------------------------------------------------------------------------

    def _recorder(self, cohort: Cohort) -> User:
        return self.users["facilitator"] if cohort.timing == "current" else self.users["staff"]

    def _enrol_and_progress(self, learner: User, cohort: Cohort, stage: str, rng: random.Random) -> None:
        """Enrol through the services and record the stage's achievements, one at a time."""
        enrolment = Enrolment.objects.filter(learner=learner, cohort=cohort).first()
        if enrolment is None:
            enrolment = services.enrolment_create(
                learner=learner,
                cohort=cohort,
                enrolled_by=self.users["coordinator"]
                if cohort.partner.slug == PARTNERS[0]["slug"]
                else self.users["staff"],
                status=Enrolment.Status.INVITED if stage == "invited" else Enrolment.Status.ACTIVE,
            )
        if enrolment.status == Enrolment.Status.WITHDRAWN or stage in {"invited", "active"}:
            return
        shown = set(enrolment.achievements.values_list("competency_id", flat=True))
        for n, competency in enumerate(self._chosen(cohort.programme, stage, rng)):
            if competency.pk in shown:
                continue
            services.achievement_record(
                enrolment=enrolment,
                competency=competency,
                recorded_by=self._recorder(cohort),
                achieved_on=min(self.today, cohort.starts_on + datetime.timedelta(days=2 * n)),
            )
        if stage == "withdrawn":
            services.enrolment_withdraw(enrolment=enrolment, withdrawn_by=self.users["staff"])

    def _chosen(self, programme: Programme, stage: str, rng: random.Random) -> list[Competency]:
        required = list(required_competencies(programme=programme))
        return required[: self._how_many(len(required), stage, rng)]

    @staticmethod
    def _how_many(n_required: int, stage: str, rng: random.Random) -> int:
        if stage == "complete":
            return n_required
        if stage == "nearly":
            return n_required - 1
        if stage in {"part", "withdrawn"}:
            return rng.randint(n_required // 4, (3 * n_required) // 4)
        return 0

    def _role_learner(self) -> None:
        learner = self.users["learner"]
        by_name = {c.name: c for c in self.cohorts}
        rng = random.Random(f"{SEED}-role-learner")
        self._enrol_and_progress(learner, by_name["Eastmoor town centre walkers"], "complete", rng)
        self._enrol_and_progress(learner, by_name["Riverside Saturday mornings"], "part", rng)

    def _stage(self, index: int, timing: str) -> str:
        cycle = STAGES[timing]
        return cycle[index % len(cycle)]

    def _service_learner(self, index: int) -> None:
        cohort = self.cohorts[index % len(self.cohorts)]
        stage = self._stage(index // len(self.cohorts), cohort.timing)
        email, full_name = learner_identity(index)
        learner = self._user(email, full_name, invited=stage == "invited")
        self._enrol_and_progress(learner, cohort, stage, random.Random(f"{SEED}-progress-{index}"))

    def _bulk_learners(self, indexes: range) -> None:
        """Thousands of learners for load tests: bulk inserts, then one completion pass."""
        staff = self.users["staff"]
        programmes = list(self.programmes.values())
        timings = ["current", "past", "current", "upcoming"]
        groups: dict[int, Cohort] = {}
        plan = []  # (index, email, full name, cohort, stage)
        for position, index in enumerate(indexes):
            group = position // BULK_GROUP_SIZE
            if group not in groups:
                programme = programmes[group % len(programmes)]
                partner_slug = PROGRAMMES[group % len(programmes)]["partners"][(group // len(programmes)) % 2]
                short = next(p["short"] for p in PARTNERS if p["slug"] == partner_slug)
                groups[group] = self._cohort(
                    programme,
                    self.partners[partner_slug],
                    f"{short} group {group + 1}",
                    timings[group % len(timings)],
                    VENUES[partner_slug],
                    capacity=BULK_GROUP_SIZE,
                    offset_weeks=-(group % 10) if timings[group % len(timings)] == "past" else 0,
                )
            cohort = groups[group]
            stage = self._stage(position % BULK_GROUP_SIZE, cohort.timing)
            plan.append((index, *learner_identity(index), cohort, stage))

        existing = dict(User.objects.filter(email__endswith=f"@{LEARNER_DOMAIN}").values_list("email", "pk"))
        new_users = [
            User(
                email=email,
                full_name=name,
                password=make_password(None) if stage == "invited" else self.password_hash,
            )
            for _, email, name, _, stage in plan
            if email not in existing
        ]
        with self._phase(f"{len(new_users)} learners' accounts (bulk)"):
            User.objects.bulk_create(new_users, batch_size=1000)
        ids = dict(User.objects.filter(email__endswith=f"@{LEARNER_DOMAIN}").values_list("email", "pk"))
        have_address = set(
            EmailAddress.objects.filter(email__endswith=f"@{LEARNER_DOMAIN}").values_list("email", flat=True)
        )
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(user_id=ids[email], email=email, verified=True, primary=True)
                for _, email, _, _, stage in plan
                if stage != "invited" and email not in have_address
            ],
            batch_size=1000,
        )

        cohort_ids = [c.pk for c in groups.values()]
        enrolled = set(Enrolment.objects.filter(cohort_id__in=cohort_ids).values_list("learner_id", "cohort_id"))
        now = timezone.now()
        status = {
            "invited": Enrolment.Status.INVITED,
            "withdrawn": Enrolment.Status.WITHDRAWN,
        }
        new_enrolments, stages = [], {}
        for index, email, _, cohort, stage in plan:
            if (ids[email], cohort.pk) in enrolled:
                continue
            enrolment = Enrolment(
                learner_id=ids[email],
                cohort=cohort,
                programme_id=cohort.programme_id,
                status=status.get(stage, Enrolment.Status.ACTIVE),
                enrolled_by=staff,
                withdrawn_at=now if stage == "withdrawn" else None,
            )
            new_enrolments.append(enrolment)
            stages[(ids[email], cohort.pk)] = (stage, index)
        with self._phase(f"{len(new_enrolments)} enrolments (bulk, with history)"):
            created = bulk_create_with_history(new_enrolments, Enrolment, batch_size=1000, default_user=staff)
        if any(e.pk is None for e in created):  # databases that do not return ids from bulk inserts
            created = list(
                Enrolment.objects.filter(cohort_id__in=cohort_ids, learner_id__in=[e.learner_id for e in created])
            )

        required = {p.pk: list(required_competencies(programme=p)) for p in programmes}
        starts = {c.pk: c.starts_on for c in groups.values()}
        achievements = []
        for enrolment in created:
            key = (enrolment.learner_id, enrolment.cohort_id)
            if key not in stages:
                continue
            stage, index = stages[key]
            rng = random.Random(f"{SEED}-progress-{index}")
            chosen = required[enrolment.programme_id]
            starts_on = starts[enrolment.cohort_id]
            for n, competency in enumerate(chosen[: self._how_many(len(chosen), stage, rng)]):
                achievements.append(
                    Achievement(
                        enrolment=enrolment,
                        competency=competency,
                        achieved_on=min(self.today, starts_on + datetime.timedelta(days=2 * n)),
                        recorded_by=staff,
                    )
                )
        with self._phase(f"{len(achievements)} achievements (bulk, with history)"):
            bulk_create_with_history(achievements, Achievement, batch_size=2000, default_user=staff)
        with self._phase("one completion pass (enrolments_reevaluate)"):
            moved = services.enrolments_reevaluate()
        if self.verbosity >= 2:
            self.stdout.write(f"  completion pass: {moved}")

    # --- Report -----------------------------------------------------------------------------------

    def _report(self, learners: int) -> None:
        write = self.stdout.write
        write(self.style.SUCCESS("Demo Academy ready."))
        write(
            f"  {Programme.objects.count()} programmes, {PartnerOrganisation.objects.count()} partners, "
            f"{Cohort.objects.count()} cohorts, {Enrolment.objects.count()} enrolments "
            f"({Enrolment.objects.filter(status=Enrolment.Status.COMPLETED).count()} completed), "
            f"{Achievement.objects.count()} achievements."
        )
        write("")
        write(f"Demo accounts (every one has the password: {DEMO_PASSWORD})")
        for key, email, *_ in ROLE_USERS:
            write(f"  {email:<36} {ROLE_DESCRIPTIONS[key]}")
        write(f"  {learners} more learners, e.g. {learner_identity(0)[0]} (invited ones have no password yet)")
        write("Sign in at http://127.0.0.1:8000/accounts/login/ (staff: http://127.0.0.1:8000/admin/).")
