"""Withdrawing asks first and can be undone: the services (``enrolment_reinstate``,
``enrolments_withdraw``) and the portal's confirmation pages."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from academy.tests.factories import UserFactory
from programmes.models import Enrolment
from programmes.services import enrolment_reinstate, enrolment_withdraw, enrolments_withdraw
from programmes.tests.factories import AchievementFactory, CohortFactory, EnrolmentFactory


def _invited(cohort, email="invited@example.org", name="Ivy Invited"):
    learner = UserFactory(email=email, full_name=name)
    learner.set_unusable_password()
    learner.save()
    return EnrolmentFactory(learner=learner, cohort=cohort, status=Enrolment.Status.INVITED)


# --- The services -------------------------------------------------------------------------------


def test_reinstate_brings_back_a_learner_taking_part_with_history(enrolment, coordinator, staff_user):
    enrolment_withdraw(enrolment=enrolment, withdrawn_by=coordinator)
    reinstated = enrolment_reinstate(enrolment=enrolment, reinstated_by=staff_user)
    assert reinstated.status == Enrolment.Status.ACTIVE and reinstated.withdrawn_at is None
    latest, withdrawn = list(enrolment.history.order_by("-history_date", "-history_id")[:2])
    assert (latest.history_user, latest.history_change_reason, latest.status) == (staff_user, "reinstated", "active")
    assert (withdrawn.history_user, withdrawn.history_change_reason) == (coordinator, "withdrawn")


def test_reinstate_brings_back_an_invited_learner_as_invited(cohort, coordinator):
    enrolment = _invited(cohort)
    enrolment_withdraw(enrolment=enrolment, withdrawn_by=coordinator)
    assert enrolment_reinstate(enrolment=enrolment, reinstated_by=coordinator).status == Enrolment.Status.INVITED


def test_reinstate_reevaluates_completion(enrolment, framework, coordinator):
    enrolment_withdraw(enrolment=enrolment, withdrawn_by=coordinator)
    for competency in framework["competencies"]:  # e.g. recorded by staff before the withdrawal
        AchievementFactory(enrolment=enrolment, competency=competency)
    reinstated = enrolment_reinstate(enrolment=enrolment, reinstated_by=coordinator)
    assert reinstated.status == Enrolment.Status.COMPLETED and reinstated.completed_at is not None


def test_reinstate_is_refused_when_the_cohort_is_full(cohort, enrolment, coordinator):
    enrolment_withdraw(enrolment=enrolment, withdrawn_by=coordinator)
    cohort.capacity = 2
    cohort.save()
    EnrolmentFactory.create_batch(2, cohort=cohort)
    with pytest.raises(ValidationError, match="cannot be reinstated: all 2 places of “Hackney spring cohort”"):
        enrolment_reinstate(enrolment=enrolment, reinstated_by=coordinator)
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.WITHDRAWN


def test_reinstate_is_refused_when_enrolled_elsewhere_in_the_programme(cohort, enrolment, coordinator):
    enrolment_withdraw(enrolment=enrolment, withdrawn_by=coordinator)
    EnrolmentFactory(learner=enrolment.learner, cohort=CohortFactory(programme=cohort.programme))
    with pytest.raises(ValidationError, match="now enrolled in “Lived Experience of Poverty” in another cohort"):
        enrolment_reinstate(enrolment=enrolment, reinstated_by=coordinator)


def test_reinstate_is_refused_for_a_learner_not_withdrawn(enrolment, coordinator):
    with pytest.raises(ValidationError, match="has not been withdrawn, so there is nothing to undo"):
        enrolment_reinstate(enrolment=enrolment, reinstated_by=coordinator)


def test_bulk_withdraw_is_all_or_nothing(cohort, enrolment, coordinator):
    other = _invited(cohort)
    done = EnrolmentFactory(cohort=cohort, status=Enrolment.Status.COMPLETED, completed_at=timezone.now())
    with pytest.raises(ValidationError, match="has already completed this programme"):
        enrolments_withdraw(cohort=cohort, enrolment_ids=[enrolment.pk, other.pk, done.pk], withdrawn_by=coordinator)
    assert set(Enrolment.objects.filter(cohort=cohort).values_list("status", flat=True)) == {
        "active",
        "invited",
        "completed",
    }


def test_bulk_withdraw_records_who_and_uses_bounded_queries(cohort, coordinator, django_assert_max_num_queries):
    cohort.capacity = 100
    cohort.save()
    ids = [e.pk for e in EnrolmentFactory.create_batch(60, cohort=cohort)]
    elsewhere = EnrolmentFactory()  # another cohort's learner is left alone
    with django_assert_max_num_queries(6):
        withdrawn = enrolments_withdraw(cohort=cohort, enrolment_ids=[*ids, elsewhere.pk], withdrawn_by=coordinator)
    assert len(withdrawn) == 60
    assert Enrolment.objects.filter(pk__in=ids, status="withdrawn", withdrawn_at__isnull=False).count() == 60
    elsewhere.refresh_from_db()
    assert elsewhere.status == Enrolment.Status.ACTIVE
    record = Enrolment.objects.get(pk=ids[0]).history.order_by("-history_date", "-history_id").first()
    assert (record.history_user, record.history_change_reason) == (coordinator, "withdrawn")


# --- The pages ----------------------------------------------------------------------------------


def test_withdraw_asks_first_naming_the_learner(coordinator_client, cohort, enrolment):
    url = reverse("partners:enrolment_withdraw", args=[cohort.pk, enrolment.pk])
    page = coordinator_client.get(url).content.decode()
    assert "Withdraw <bdi>Zoë Ó&#x27;Brien-Łukasz</bdi> from “Hackney spring cohort”?" in page
    assert 'id="confirm-heading" tabindex="-1"' in page and f'action="{url}"' in page
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE  # asking changed nothing
    cohort_page = coordinator_client.get(reverse("partners:cohort_detail", args=[cohort.pk])).content.decode()
    assert f'href="{url}"' in cohort_page  # the list's button is a link to the question, not a POST


def test_reinstate_from_the_cohort_page(coordinator_client, cohort, enrolment, coordinator):
    enrolment_withdraw(enrolment=enrolment, withdrawn_by=coordinator)
    page = coordinator_client.get(reverse("partners:cohort_detail", args=[cohort.pk])).content.decode()
    url = reverse("partners:enrolment_reinstate", args=[cohort.pk, enrolment.pk])
    assert f'action="{url}"' in page
    response = coordinator_client.post(url, follow=True)
    assert "Zoë Ó&#x27;Brien-Łukasz is back in the cohort (taking part)." in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE


def test_reinstate_refusal_is_shown(coordinator_client, cohort, enrolment):
    response = coordinator_client.post(
        reverse("partners:enrolment_reinstate", args=[cohort.pk, enrolment.pk]), follow=True
    )
    assert "has not been withdrawn, so there is nothing to undo." in response.content.decode()


def test_history_is_shown_to_the_coordinator(coordinator_client, cohort, enrolment, coordinator, staff_user):
    enrolment_withdraw(enrolment=enrolment, withdrawn_by=coordinator)
    enrolment_reinstate(enrolment=enrolment, reinstated_by=staff_user)
    page = coordinator_client.get(reverse("partners:learner_progress", args=[cohort.pk, enrolment.pk])).content.decode()
    history = page[page.index("History of this enrolment") :]
    assert history.index("Reinstated by <bdi>Sam Staff</bdi>") < history.index(
        "Withdrawn by <bdi>Cora Coordinator</bdi>"
    )
    assert "Enrolled" in history


def test_bulk_withdraw_lists_the_chosen_learners_then_withdraws_them(coordinator_client, cohort, enrolment):
    other = _invited(cohort)
    done = EnrolmentFactory(cohort=cohort, status=Enrolment.Status.COMPLETED, completed_at=timezone.now())
    foreign = EnrolmentFactory()
    url = reverse("partners:enrolments_withdraw", args=[cohort.pk])
    chosen = {"enrolment": [enrolment.pk, other.pk, done.pk, foreign.pk, "x"]}
    page = coordinator_client.get(url, chosen).content.decode()
    assert "Withdraw 2 learners from “Hackney spring cohort”?" in page
    assert "<bdi>Ivy Invited</bdi> (invited@example.org)" in page and "Zoë Ó&#x27;Brien-Łukasz" in page
    assert f'value="{done.pk}"' not in page and f'value="{foreign.pk}"' not in page
    response = coordinator_client.post(url, {"enrolment": [enrolment.pk, other.pk]}, follow=True)
    assert "2 learners have been withdrawn." in response.content.decode()
    assert set(Enrolment.objects.filter(pk__in=[enrolment.pk, other.pk]).values_list("status", flat=True)) == {
        "withdrawn"
    }
    foreign.refresh_from_db()
    assert foreign.status == Enrolment.Status.ACTIVE


def test_bulk_withdraw_with_nobody_chosen_says_what_to_do(coordinator_client, cohort, enrolment):
    url = reverse("partners:enrolments_withdraw", args=[cohort.pk])
    assert "Choose the learners to withdraw" in coordinator_client.get(url).content.decode()
    page = coordinator_client.post(url, {}).content.decode()
    assert 'role="alert"' in page and "Nobody was withdrawn: choose at least one learner" in page
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE


def test_resend_every_pending_invitation_asks_then_sends(coordinator_client, cohort, enrolment, captured_invitations):
    first = _invited(cohort)
    second = _invited(cohort, email="second@example.org", name="Seán O'Brien")
    url = reverse("partners:invitations_resend_all", args=[cohort.pk])
    cohort_page = coordinator_client.get(reverse("partners:cohort_detail", args=[cohort.pk])).content.decode()
    assert f'href="{url}"' in cohort_page and "Re-send every pending invitation (2)…" in cohort_page
    page = coordinator_client.get(url).content.decode()
    assert "Re-send the invitation to 2 learners?" in page and "Seán O&#x27;Brien" in page
    assert "learner@example.org" not in page  # has a password: not pending
    assert captured_invitations == []
    response = coordinator_client.post(url, follow=True)
    assert sorted(captured_invitations[0]) == sorted([first.learner_id, second.learner_id])
    assert "New invitations are on their way to 2 learners." in response.content.decode()


def test_viewer_cannot_withdraw_or_reinstate(client, viewer, cohort, enrolment):
    """A viewer is told they can look but not change (403); nothing is written."""
    client.force_login(viewer)
    assert client.get(reverse("partners:enrolment_withdraw", args=[cohort.pk, enrolment.pk])).status_code == 403
    bulk = client.post(reverse("partners:enrolments_withdraw", args=[cohort.pk]), {"enrolment": [enrolment.pk]})
    assert bulk.status_code == 403
    enrolment_withdraw(enrolment=enrolment)
    reinstate = client.post(reverse("partners:enrolment_reinstate", args=[cohort.pk, enrolment.pk]))
    assert reinstate.status_code == 403
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.WITHDRAWN


def test_another_organisation_gets_404(client, other_coordinator, cohort, enrolment):
    client.force_login(other_coordinator)
    assert client.get(reverse("partners:enrolment_withdraw", args=[cohort.pk, enrolment.pk])).status_code == 404
    assert client.get(reverse("partners:invitations_resend_all", args=[cohort.pk])).status_code == 404
    assert client.post(reverse("partners:enrolment_reinstate", args=[cohort.pk, enrolment.pk])).status_code == 404
