"""The staff admin: every page loads, writes go through the services, lists stay cheap, and the
history says who changed what."""

import datetime
import io

import pytest
from django import forms
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.test.client import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from academy.tests.factories import UserFactory
from partners.models import PartnerMembership
from partners.tests.factories import PartnerMembershipFactory, PartnerOrganisationFactory
from programmes.models import Achievement, Cohort, Competency, CompetencyDomain, Enrolment, Programme
from programmes.services import achievement_record, enrolment_withdraw
from programmes.tests.factories import (
    AchievementFactory,
    CohortFactory,
    CompetencyFactory,
    CourseDomainFactory,
    EnrolmentFactory,
    ProgrammeFactory,
)


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.org", full_name="Rita Root", staff=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def demo(db):
    call_command("seed_demo", learners=8, stdout=io.StringIO())


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def payload(response) -> dict:
    """The POST data an unchanged admin change form (with its inlines) would send back."""
    data = {}
    all_forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        all_forms.append(inline.formset.management_form)
        all_forms.extend(inline.formset.forms)
    for form in all_forms:
        for name, field in form.fields.items():
            value = form[name].value()
            key = form[name].html_name
            if isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif value is not None:
                data[key] = str(value)
    return data


# --- Every page loads -------------------------------------------------------------------------


def registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def test_every_changelist_add_and_change_page_loads(admin_client, superuser, demo):
    """Includes models other apps register later: the loop reads the admin site's registry."""
    request = RequestFactory().get("/admin/")
    request.user = superuser
    problems = []
    for model, model_admin in registered():
        label = model._meta.label
        response = admin_client.get(url(model, "changelist"))
        if response.status_code != 200:
            problems.append(f"{label} changelist: {response.status_code}")
        # A search must not crash either (search fields across relations).
        if model_admin.get_search_fields(request):
            response = admin_client.get(url(model, "changelist"), {"q": "a"})
            if response.status_code != 200:
                problems.append(f"{label} search: {response.status_code}")
        expected_add = 200 if model_admin.has_add_permission(request) else 403
        response = admin_client.get(url(model, "add"))
        if response.status_code != expected_add:
            problems.append(f"{label} add: {response.status_code}, expected {expected_add}")
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            response = admin_client.get(url(model, "change", obj.pk))
            if response.status_code != 200:
                problems.append(f"{label} change: {response.status_code}")
            if hasattr(model, "history"):
                response = admin_client.get(url(model, "history", obj.pk))
                if response.status_code != 200:
                    problems.append(f"{label} history: {response.status_code}")
    assert not problems, problems
    # The demo's rows are really on the pages (not an empty list that "loads").
    response = admin_client.get(url(Enrolment, "changelist"))
    assert b"learners.example.org" in response.content


def test_admin_is_refused_to_people_who_are_not_staff(client, learner, coordinator):
    for person in (learner, coordinator):
        client.force_login(person)
        response = client.get(url(Enrolment, "changelist"))
        assert response.status_code == 302
        assert "login" in response["Location"]


# --- Achievements go through the services ----------------------------------------------------


def _achievement_post(enrolment, competency, evidence="Observed at the library session"):
    return {
        "enrolment": str(enrolment.pk),
        "competency": str(competency.pk),
        "achieved_on": datetime.date(2025, 3, 4).isoformat(),
        "evidence": evidence,
    }


def test_achievement_for_a_withdrawn_enrolment_shows_the_error_and_writes_nothing(admin_client, framework, enrolment):
    enrolment_withdraw(enrolment=enrolment)
    competency = framework["competencies"][0]
    response = admin_client.post(url(Achievement, "add"), _achievement_post(enrolment, competency))
    assert response.status_code == 200  # the form again, with the staff member's input kept
    assert "has withdrawn from this cohort" in response.content.decode()
    assert "Observed at the library session" in response.content.decode()
    assert not Achievement.objects.exists()
    assert not Achievement.history.exists()


def test_achievement_for_a_competency_the_programme_does_not_require_is_refused(admin_client, framework, enrolment):
    elsewhere = CompetencyFactory(domain=CourseDomainFactory(name="Another programme's domain"))
    response = admin_client.post(url(Achievement, "add"), _achievement_post(enrolment, elsewhere))
    assert response.status_code == 200
    assert "is not part of the programme" in response.content.decode()
    assert not Achievement.objects.exists()


def test_recording_the_last_achievement_in_admin_completes_the_enrolment(admin_client, superuser, framework, enrolment):
    *others, last = framework["competencies"]
    for competency in others:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=None)
    response = admin_client.post(url(Achievement, "add"), _achievement_post(enrolment, last))
    assert response.status_code == 302, response.content.decode()[:2000]
    achievement = Achievement.objects.get(enrolment=enrolment, competency=last)
    assert achievement.recorded_by == superuser
    assert achievement.achieved_on == datetime.date(2025, 3, 4)
    assert achievement.history.first().history_user == superuser
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED
    assert enrolment.certificate.status  # the completion hook requested the certificate


def test_deleting_an_achievement_in_admin_reopens_a_completed_enrolment(admin_client, superuser, framework, enrolment):
    for competency in framework["competencies"]:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=None)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED
    achievement = enrolment.achievements.first()
    response = admin_client.post(url(Achievement, "delete", achievement.pk), {"post": "yes"})
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE
    assert enrolment.completed_at is None
    deleted = Achievement.history.filter(id=achievement.pk, history_type="-").get()
    assert deleted.history_user == superuser


def test_bulk_delete_action_also_goes_through_the_service(admin_client, framework, enrolment):
    for competency in framework["competencies"]:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=None)
    ids = [str(pk) for pk in enrolment.achievements.values_list("pk", flat=True)[:2]]
    response = admin_client.post(
        url(Achievement, "changelist"), {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.achievements.count() == len(framework["competencies"]) - 2
    assert enrolment.status == Enrolment.Status.ACTIVE


# --- The framework: saves from the inline re-apply the completion rule --------------------------


def test_retiring_a_competency_in_the_domain_inline_completes_learners_who_had_the_rest(
    admin_client, superuser, framework, enrolment
):
    *shown, missing = framework["competencies"]
    for competency in shown:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=None)
    domain = missing.domain
    change = url(CompetencyDomain, "change", domain.pk)
    data = payload(admin_client.get(change))
    prefix = next(k for k in data if k.endswith("-TOTAL_FORMS")).removesuffix("-TOTAL_FORMS")
    index = next(i for i in range(10) if data.get(f"{prefix}-{i}-id") == str(missing.pk))
    data.pop(f"{prefix}-{index}-is_active")
    response = admin_client.post(change, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    missing.refresh_from_db()
    assert missing.is_active is False
    assert missing.retired_at is not None
    assert missing.history.first().history_user == superuser
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED


def test_adding_a_competency_in_admin_reopens_a_completed_enrolment(admin_client, framework, enrolment):
    for competency in framework["competencies"]:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=None)
    domain = framework["core"][0]
    response = admin_client.post(
        url(Competency, "add"),
        {
            "domain": str(domain.pk),
            "statement": "Stores signed consent forms securely.",
            "order": "9",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE


def test_competencies_are_retired_not_deleted(admin_client, framework):
    competency = framework["competencies"][0]
    assert admin_client.get(url(Competency, "delete", competency.pk)).status_code == 403
    response = admin_client.post(
        url(Competency, "changelist"), {"action": "retire_selected", "_selected_action": [str(competency.pk)]}
    )
    assert response.status_code == 302
    competency.refresh_from_db()
    assert competency.is_active is False


def test_course_domain_added_in_the_programme_inline_belongs_to_the_programme(admin_client, superuser, programme):
    change = url(Programme, "change", programme.pk)
    data = payload(admin_client.get(change))
    prefix = "course_domains"
    data[f"{prefix}-TOTAL_FORMS"] = str(int(data[f"{prefix}-TOTAL_FORMS"]) + 1)
    n = int(data[f"{prefix}-TOTAL_FORMS"]) - 1
    data.update(
        {f"{prefix}-{n}-name": "Peer interviewing", f"{prefix}-{n}-description": "", f"{prefix}-{n}-order": "1"}
    )
    response = admin_client.post(change, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    domain = CompetencyDomain.objects.get(name="Peer interviewing")
    assert domain.programme == programme
    assert domain.is_core is False
    assert domain.history.first().history_user == superuser


# --- Enrolments ---------------------------------------------------------------------------------


def test_enrolment_added_in_admin_goes_through_the_service(admin_client, superuser, cohort, learner):
    response = admin_client.post(
        url(Enrolment, "add"), {"learner": str(learner.pk), "cohort": str(cohort.pk), "status": "invited"}
    )
    assert response.status_code == 302, response.context["errors"] if response.context else response
    enrolment = Enrolment.objects.get(learner=learner)
    assert enrolment.programme == cohort.programme
    assert enrolment.enrolled_by == superuser
    assert enrolment.history.first().history_user == superuser


def test_second_live_enrolment_in_a_programme_is_refused_in_admin(admin_client, enrolment, programme, partner):
    other_cohort = CohortFactory(programme=programme, partner=partner, name="Autumn cohort")
    response = admin_client.post(
        url(Enrolment, "add"),
        {"learner": str(enrolment.learner.pk), "cohort": str(other_cohort.pk), "status": "active"},
    )
    assert response.status_code == 200
    assert "is already enrolled in" in response.content.decode()
    assert Enrolment.objects.count() == 1


def test_enrolment_added_in_the_cohort_inline_goes_through_the_service(admin_client, superuser, cohort, enrolment):
    newcomer = UserFactory(email="newcomer@example.org", full_name="Nia Newcomer")
    change = url(Cohort, "change", cohort.pk)
    data = payload(admin_client.get(change))
    prefix = "enrolments"
    n = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(n + 1)
    data.update({f"{prefix}-{n}-learner": str(newcomer.pk), f"{prefix}-{n}-status": "active"})
    response = admin_client.post(change, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    created = Enrolment.objects.get(learner=newcomer)
    assert created.cohort == cohort
    assert created.enrolled_by == superuser
    # An already-enrolled learner is refused in the inline too, and nothing is written.
    data = payload(admin_client.get(change))
    n = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(n + 1)
    data.update({f"{prefix}-{n}-learner": str(newcomer.pk), f"{prefix}-{n}-status": "active"})
    data["name"] = "Renamed cohort"
    response = admin_client.post(change, data)
    assert response.status_code == 200
    assert "is already enrolled in" in response.content.decode()
    cohort.refresh_from_db()
    assert cohort.name == "Hackney spring cohort"  # the whole save rolled back
    assert Enrolment.objects.filter(learner=newcomer).count() == 1


def test_withdraw_action_withdraws_and_refuses_completed_learners(admin_client, framework, enrolment, other_learner):
    for competency in framework["competencies"]:
        achievement_record(enrolment=enrolment, competency=competency, recorded_by=None)
    other = Enrolment.objects.get(learner=other_learner)
    response = admin_client.post(
        url(Enrolment, "changelist"),
        {"action": "withdraw_selected", "_selected_action": [str(enrolment.pk), str(other.pk)], "post": "yes"},
        follow=True,
    )
    text = response.content.decode()
    assert "has already completed this programme" in text
    assert "Withdrew 1 learner: " in text
    enrolment.refresh_from_db()
    other.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED
    assert other.status == Enrolment.Status.WITHDRAWN
    assert other.withdrawn_at is not None


def test_enrolment_change_page_shows_what_is_still_to_show(admin_client, framework, enrolment):
    response = admin_client.get(url(Enrolment, "change", enrolment.pk))
    assert framework["competencies"][0].statement in response.content.decode()


# --- History ------------------------------------------------------------------------------------


def test_history_records_the_staff_member_who_changed_a_programme(admin_client, superuser, programme):
    change = url(Programme, "change", programme.pk)
    data = payload(admin_client.get(change))
    data["title"] = "Lived experience of poverty (2026)"
    response = admin_client.post(change, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    latest = programme.history.first()
    assert latest.title == "Lived experience of poverty (2026)"
    assert latest.history_user == superuser
    history_page = admin_client.get(url(Programme, "history", programme.pk))
    assert "Rita Root" in history_page.content.decode()


def test_user_admin_adds_a_person_by_email_and_name(admin_client):
    response = admin_client.post(
        reverse("admin:academy_user_add"),
        {
            "email": "New.Facilitator@Example.org",
            "full_name": "Nadia Facilitator",
            "usable_password": "true",
            "password1": "river-lantern-orchard-42",
            "password2": "river-lantern-orchard-42",
        },
    )
    assert response.status_code == 302
    from academy.models import User

    user = User.objects.get(email="new.facilitator@example.org")
    assert user.full_name == "Nadia Facilitator"
    assert user.check_password("river-lantern-orchard-42")
    response = admin_client.get(reverse("admin:academy_user_changelist"), {"q": "nadia"})
    assert "new.facilitator@example.org" in response.content.decode()


# --- Changelists cost the same whatever their length ---------------------------------------------


def _rows(n: int, programme, partner, competency):
    """``n`` rows of every admin-listed model, linked the way real data is."""
    for i in range(n):
        org = PartnerOrganisationFactory()
        PartnerMembershipFactory(organisation=org, role=PartnerMembership.Role.VIEWER)
        prog = ProgrammeFactory(partners=[org])
        CompetencyFactory(domain=CourseDomainFactory(programme=prog))
        cohort = CohortFactory(programme=programme, partner=partner if i % 2 else org)
        cohort.facilitators.add(UserFactory())
        enrolment = EnrolmentFactory(cohort=cohort)
        AchievementFactory(enrolment=enrolment, competency=competency)


CHANGELISTS = [
    "academy.User",
    "partners.PartnerOrganisation",
    "partners.PartnerMembership",
    "programmes.Programme",
    "programmes.CompetencyDomain",
    "programmes.Competency",
    "programmes.Cohort",
    "programmes.Enrolment",
    "programmes.Achievement",
]


def _changelist_queries(client) -> dict[str, int]:
    counts = {}
    for model, _ in registered():
        if model._meta.label not in CHANGELISTS:
            continue
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(model, "changelist")).status_code == 200
        counts[model._meta.label] = len(queries)
    return counts


def test_changelist_query_counts_do_not_grow_with_rows(admin_client, framework):
    programme, partner = framework["programme"], framework["programme"].partner_organisations.first()
    competency = framework["competencies"][0]
    _rows(3, programme, partner, competency)
    few = _changelist_queries(admin_client)
    _rows(27, programme, partner, competency)
    many = _changelist_queries(admin_client)
    assert set(few) == set(CHANGELISTS)
    assert many == few
    assert max(many.values()) <= 20, many
