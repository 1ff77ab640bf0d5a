"""``python manage.py seed_demo``: a realistic demo Academy, the same however often it runs."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command

from academy.models import User
from demo.data import DEMO_PASSWORD
from partners.models import PartnerMembership, PartnerOrganisation
from programmes.models import Achievement, Cohort, CompetencyDomain, Enrolment, Programme
from programmes.selectors import enrolment_is_complete, required_competencies

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_running_twice_gives_identical_counts_of_every_model():
    seed()
    first = counts()
    seed()
    assert counts() == first
    assert first["academy.User"] >= 46
    assert first["programmes.Achievement"] > 100


def test_bulk_learners_are_idempotent_too_and_completed_by_the_completion_pass():
    seed(learners=60)
    first = counts()
    seed(learners=60)
    assert counts() == first
    bulk = Enrolment.objects.filter(cohort__name__contains=" group ")
    assert bulk.count() == 15
    completed = bulk.filter(status=Enrolment.Status.COMPLETED)
    assert completed.exists()
    for enrolment in bulk.exclude(status=Enrolment.Status.WITHDRAWN):
        assert (enrolment.status == Enrolment.Status.COMPLETED) == enrolment_is_complete(enrolment=enrolment)
    # Bulk learners can sign in with the demo password like the others.
    active = bulk.filter(status=Enrolment.Status.ACTIVE).select_related("learner").first()
    assert active.learner.check_password(DEMO_PASSWORD)


def test_roles_exist_credentials_are_printed_and_the_academy_is_realistic(client):
    output = seed()
    superuser = User.objects.get(email="admin@academy.example.org")
    assert superuser.is_superuser and superuser.is_staff
    staff = User.objects.get(email="staff@academy.example.org")
    assert staff.is_staff and not staff.is_superuser
    assert staff.has_perm("programmes.add_achievement")
    assert staff.has_perm("partners.change_partnerorganisation")
    facilitator = User.objects.get(email="facilitator@academy.example.org")
    assert facilitator.facilitated_cohorts.count() >= 2
    assert PartnerMembership.objects.get(user__email="coordinator@academy.example.org").role == "coordinator"
    assert PartnerMembership.objects.get(user__email="viewer@academy.example.org").role == "viewer"
    learner = User.objects.get(email="learner@academy.example.org")
    assert set(learner.enrolments.values_list("status", flat=True)) == {"completed", "active"}
    for email in (
        "admin@academy.example.org",
        "staff@academy.example.org",
        "facilitator@academy.example.org",
        "coordinator@academy.example.org",
        "viewer@academy.example.org",
        "learner@academy.example.org",
    ):
        assert email in output
        assert User.objects.get(email=email).check_password(DEMO_PASSWORD)
    assert DEMO_PASSWORD in output
    # The staff account really runs the admin.
    assert client.login(email="staff@academy.example.org", password=DEMO_PASSWORD)
    assert client.get("/admin/programmes/enrolment/").status_code == 200

    # --- The demo Academy is realistic (same seed: seeding is slow enough to do once) ---
    core = CompetencyDomain.objects.filter(is_core=True)
    assert sorted(core.values_list("name", flat=True)) == sorted(
        [
            "Research methods",
            "Ethics",
            "Fieldwork strategies",
            "Coding and analysing data",
            "Communication and dissemination",
            "Team-working",
        ]
    )
    for domain in core:
        assert 3 <= domain.competencies.count() <= 5
    programmes = Programme.objects.all()
    assert programmes.count() == 3
    for programme in programmes:
        assert programme.status == Programme.Status.OPEN
        assert programme.research_project and programme.certificate_wording and programme.signatory_name
        assert programme.partner_organisations.exists()
        course = programme.course_domains.all()
        assert 1 <= course.count() <= 2
        for domain in course:
            assert 2 <= domain.competencies.count() <= 4
        assert programme.cohorts.exists()
    assert set(PartnerOrganisation.objects.values_list("kind", flat=True)) >= {"voluntary_sector", "local_authority"}
    assert PartnerOrganisation.objects.filter(name__icontains="housing").exists()
    assert Cohort.objects.exclude(venue="").count() == Cohort.objects.count()

    learners = User.objects.filter(email__endswith="@learners.example.org")
    assert learners.count() >= 40
    # Every stage: just invited, taking part with nothing yet, part way, complete, withdrawn.
    statuses = set(Enrolment.objects.values_list("status", flat=True))
    assert statuses == {"invited", "active", "completed", "withdrawn"}
    active = Enrolment.objects.filter(status="active")
    n_required = {p.pk: required_competencies(programme=p).count() for p in programmes}
    progress = {e.achievements.count() / n_required[e.programme_id] for e in active}
    assert 0 in progress and any(0 < p < 1 for p in progress)
    # Completed the real way: every completed enrolment has all it needs and a certificate.
    for enrolment in Enrolment.objects.filter(status="completed"):
        assert enrolment_is_complete(enrolment=enrolment)
        assert enrolment.certificate
    # Invited learners have not chosen a password yet.
    invited = User.objects.filter(enrolments__status="invited").first()
    assert not invited.has_usable_password()
    assert Achievement.objects.filter(recorded_by__email="facilitator@academy.example.org").exists()
