"""Whole pages kept in the shared cache (academy/page_cache.py): served without the queries that
built them, thrown away when what they show changes, never shown to anyone else, the CSRF token
always the visitor's own, and the permission asked on every request."""

from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from academy import page_cache
from partners.models import PartnerMembership
from partners.services import learners_enrol
from programmes.services import achievement_record, cohort_progress_save
from programmes.tests.factories import EnrolmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PAGE_CACHE_SECONDS = 600


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _queries(django_assert_max_num_queries, client, url, *, most):
    with django_assert_max_num_queries(most) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(captured)


def test_dashboard_comes_from_the_cache_until_progress_changes(
    enrolment, framework, facilitator, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    client = _client(enrolment.learner)
    first, built = _queries(django_assert_max_num_queries, client, "/", most=20)
    second, served = _queries(django_assert_max_num_queries, client, "/", most=20)
    assert "0 of 6 competencies shown" in first.content.decode()
    assert "0 of 6 competencies shown" in second.content.decode()
    assert served <= 1 < built  # only the account is read: the page itself is not rebuilt

    with django_capture_on_commit_callbacks(execute=True):
        achievement_record(enrolment=enrolment, competency=framework["competencies"][0], recorded_by=facilitator)
    assert "1 of 6 competencies shown" in client.get("/").content.decode()


def test_recording_through_the_services_marks_pages_without_looking_up_the_enrolment(enrolment, framework, facilitator):
    from programmes.services import achievements_record

    with mock.patch.object(page_cache, "_resolve", wraps=page_cache._resolve) as resolve:
        achievements_record(enrolment=enrolment, competencies=framework["competencies"][:3], recorded_by=facilitator)
    assert resolve.call_count == 1  # three achievements, one mark
    scopes, enrolment_ids = resolve.call_args.args
    assert page_cache.learner(enrolment.learner_id) in scopes and not enrolment_ids


def test_a_grid_save_reaches_every_learner_on_it(cohort, framework, facilitator, learner, other_learner):
    enrolments = {e.learner_id: e for e in cohort.enrolments.all()}
    clients = {pk: _client(e.learner) for pk, e in enrolments.items()}
    for client in clients.values():
        assert "0 of 6 competencies shown" in client.get("/").content.decode()
    ticks = {(e.pk, c.pk) for e in enrolments.values() for c in framework["competencies"][:2]}
    with mock.patch.object(page_cache, "_bump", wraps=page_cache._bump) as bump:
        cohort_progress_save(cohort=cohort, ticks=ticks, recorded_by=facilitator)
    assert bump.call_count == 1  # one mark for the whole grid (the second comes after commit)
    for client in clients.values():
        assert "2 of 6 competencies shown" in client.get("/").content.decode()


def test_a_refused_grid_save_marks_nothing_and_leaves_no_batch_open(cohort, framework, facilitator, enrolment):
    from django.core.exceptions import ValidationError

    competency = framework["competencies"][0]
    with mock.patch.object(page_cache, "_bump", wraps=page_cache._bump) as bump:
        with pytest.raises(ValidationError):
            cohort_progress_save(
                cohort=cohort,
                ticks={(enrolment.pk, competency.pk)},
                unticks={(enrolment.pk, competency.pk)},
                recorded_by=facilitator,
            )
        assert bump.call_count == 0
        page_cache.pages_changed(page_cache.learner(enrolment.learner_id))  # not swallowed by a batch
        assert bump.call_count == 1


def test_nobody_is_served_another_persons_cached_page(enrolment, other_learner, framework):
    mine = _client(enrolment.learner).get("/").content.decode()
    theirs = _client(other_learner).get("/").content.decode()
    assert enrolment.learner.get_short_name() in mine
    assert enrolment.learner.get_short_name() not in theirs


def test_cohort_page_has_each_visitors_own_csrf_token_and_its_forms_work(
    cohort, coordinator, enrolment, partner, django_capture_on_commit_callbacks
):
    colleague = PartnerMembership.objects.create(
        user=type(coordinator).objects.create(email="colleague@example.org", full_name="Col League"),
        organisation=partner,
    ).user
    url = reverse("partners:cohort_detail", args=[cohort.pk])
    for user in (coordinator, coordinator, colleague):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        body = client.get(url).content.decode()
        assert "csrf-" not in body  # the placeholder never leaves the server
        assert 'name="csrfmiddlewaretoken"' in body
    # The last (cached) page's form is accepted with the token it carries.
    form_token = body.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    withdraw = reverse("partners:enrolment_withdraw", args=[cohort.pk, enrolment.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(withdraw, {"csrfmiddlewaretoken": form_token})
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == "withdrawn"
    assert "Withdrawn" in client.get(url).content.decode()


def test_cohort_page_asks_the_permission_on_every_request(cohort, coordinator, enrolment):
    client = _client(coordinator)
    url = reverse("partners:cohort_detail", args=[cohort.pk])
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # now cached
    # Remove the membership behind the cache's back (no signal): the page must still be refused.
    PartnerMembership.objects.filter(user=coordinator)._raw_delete(using="default")
    assert client.get(url).status_code == 404


def test_removing_a_membership_drops_the_page_at_once(cohort, coordinator, enrolment):
    client = _client(coordinator)
    url = reverse("partners:cohort_detail", args=[cohort.pk])
    assert client.get(url).status_code == 200
    PartnerMembership.objects.filter(user=coordinator).delete()
    assert client.get(url).status_code == 404


def test_enrolling_in_bulk_shows_on_the_cached_cohort_page(
    cohort, coordinator, enrolment, django_capture_on_commit_callbacks
):
    client = _client(coordinator)
    url = reverse("partners:cohort_detail", args=[cohort.pk])
    assert "new.person@example.org" not in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        learners_enrol(cohort=cohort, learners=[("new.person@example.org", "New Person")], enrolled_by=coordinator)
    assert "new.person@example.org" in client.get(url).content.decode()


def test_a_renamed_learner_shows_on_the_cohort_page(cohort, coordinator, enrolment):
    client = _client(coordinator)
    url = reverse("partners:cohort_detail", args=[cohort.pk])
    assert escape(enrolment.learner.full_name) in client.get(url).content.decode()
    enrolment.learner.full_name = "Renamed Person"
    enrolment.learner.save()
    assert "Renamed Person" in client.get(url).content.decode()


def test_a_flash_message_is_shown_once_and_never_cached(cohort, coordinator, enrolment):
    client = _client(coordinator)
    url = reverse("partners:cohort_detail", args=[cohort.pk])
    client.get(url)  # cached
    invitation = reverse("partners:invitation_resend", args=[cohort.pk, enrolment.pk])
    shown = client.post(invitation, follow=True).content.decode()
    assert 'role="status"' in shown
    assert 'role="status"' not in client.get(url).content.decode()


def test_framework_changes_reach_every_page(enrolment, framework):
    client = _client(enrolment.learner)
    assert "0 of 6 competencies shown" in client.get("/").content.decode()
    domain = framework["core"][0]
    domain.name = "Research ethics and consent"
    domain.save()
    assert "Research ethics and consent" in client.get("/").content.decode()


def test_off_when_no_shared_cache(settings, enrolment, framework, django_assert_max_num_queries):
    settings.PAGE_CACHE_SECONDS = 0
    client = _client(enrolment.learner)
    _first, built = _queries(django_assert_max_num_queries, client, "/", most=20)
    _second, again = _queries(django_assert_max_num_queries, client, "/", most=20)
    assert again == built > 1


def test_a_cache_outage_neither_breaks_pages_nor_changes(enrolment, framework, facilitator):
    client = _client(enrolment.learner)
    with (
        mock.patch.object(page_cache.cache, "get_many", side_effect=ConnectionError("down")),
        mock.patch.object(page_cache.cache, "set_many", side_effect=ConnectionError("down")),
    ):
        achievement_record(enrolment=enrolment, competency=framework["competencies"][0], recorded_by=facilitator)
        assert "1 of 6 competencies shown" in client.get("/").content.decode()


def test_a_cache_that_fails_to_store_still_serves_the_page(enrolment, framework):
    client = _client(enrolment.learner)
    with (
        mock.patch.object(page_cache.cache, "add", side_effect=ConnectionError("full")),
        mock.patch.object(page_cache.cache, "set", side_effect=ConnectionError("full")),
    ):
        assert "0 of 6 competencies shown" in client.get("/").content.decode()


def test_nobody_else_gets_a_cached_cohort_page(cohort, coordinator, other_coordinator, learner, enrolment):
    url = reverse("partners:cohort_detail", args=[cohort.pk])
    assert _client(coordinator).get(url).status_code == 200
    assert _client(other_coordinator).get(url).status_code == 404
    assert _client(learner).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # anonymous: asked to sign in


def test_enrolment_in_another_cohort_adds_a_card(enrolment, framework, cohort):
    client = _client(enrolment.learner)
    assert client.get("/").content.decode().count("enrolment-card") == 1
    from programmes.tests.factories import CohortFactory, ProgrammeFactory

    second = CohortFactory(programme=ProgrammeFactory(title="Air Quality Monitors"), partner=cohort.partner)
    EnrolmentFactory(learner=enrolment.learner, cohort=second)
    assert client.get("/").content.decode().count("enrolment-card") == 2


def test_membership_check_without_the_organisations_read_with_the_account(
    coordinator, partner, other_partner, staff_user, learner
):
    from academy.models import User
    from partners.selectors import may_see_organisation

    plain = User.objects.get(pk=coordinator.pk)  # loaded by the ORM: no partner_organisation_ids
    assert not hasattr(plain, "partner_organisation_ids")
    assert may_see_organisation(user=plain, organisation_id=partner.pk)
    assert not may_see_organisation(user=plain, organisation_id=other_partner.pk)
    assert not may_see_organisation(user=User.objects.get(pk=learner.pk), organisation_id=partner.pk)
    assert may_see_organisation(user=staff_user, organisation_id=other_partner.pk)
