"""Withdrawing a learner and re-sending an invitation."""

from django.urls import reverse
from django.utils import timezone

from academy.tests.factories import UserFactory
from programmes.models import Enrolment
from programmes.tests.factories import EnrolmentFactory


def test_withdraw_keeps_the_learner_in_history(coordinator_client, cohort, enrolment, coordinator):
    response = coordinator_client.post(reverse("partners:enrolment_withdraw", args=[cohort.pk, enrolment.pk]))
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.WITHDRAWN and enrolment.withdrawn_at is not None
    assert enrolment.history.first().history_user == coordinator
    page = coordinator_client.get(response["Location"]).content.decode()
    assert "has been withdrawn from the cohort. Their record is kept: choose “Reinstate”" in page
    assert "Zoë Ó&#x27;Brien-Łukasz" in page  # still listed


def test_completed_learner_cannot_be_withdrawn(coordinator_client, cohort, learner):
    enrolment = EnrolmentFactory(
        learner=learner, cohort=cohort, status=Enrolment.Status.COMPLETED, completed_at=timezone.now()
    )
    response = coordinator_client.post(
        reverse("partners:enrolment_withdraw", args=[cohort.pk, enrolment.pk]), follow=True
    )
    assert "has already completed this programme and cannot be withdrawn." in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.COMPLETED


def test_enrolment_of_another_cohort_gives_404(coordinator_client, cohort, programme, partner):
    from programmes.tests.factories import CohortFactory

    elsewhere = EnrolmentFactory(cohort=CohortFactory(programme=programme, partner=partner))
    url = reverse("partners:enrolment_withdraw", args=[cohort.pk, elsewhere.pk])
    assert coordinator_client.post(url).status_code == 404


def test_resend_invitation_to_an_invited_learner(
    coordinator_client, cohort, mailoutbox, django_capture_on_commit_callbacks
):
    learner = UserFactory(email="new@example.org", full_name="New Learner", password=None)
    learner.set_unusable_password()
    learner.save()
    enrolment = EnrolmentFactory(learner=learner, cohort=cohort, status=Enrolment.Status.INVITED)
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(reverse("partners:invitation_resend", args=[cohort.pk, enrolment.pk]))
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["new@example.org"]]


def test_resend_refused_when_the_learner_has_a_password(coordinator_client, cohort, enrolment, mailoutbox):
    response = coordinator_client.post(
        reverse("partners:invitation_resend", args=[cohort.pk, enrolment.pk]), follow=True
    )
    assert "has already set up their account, so no invitation was sent." in response.content.decode()
    assert mailoutbox == []
