"""The cohort admin links staff to the grid and the invite page; the enrolment admin re-sends
invitations through the invitation service."""

import pytest
from django.urls import reverse

from academy.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_cohort_change_page_links_to_grid_and_invite(client, staff_user, cohort):
    client.force_login(staff_user)
    response = client.get(reverse("admin:programmes_cohort_change", args=[cohort.pk]))
    assert response.status_code == 200
    assert reverse("programmes:cohort_progress", args=[cohort.pk]) in response.text
    assert reverse("programmes:cohort_invite", args=[cohort.pk]) in response.text


def test_resend_invitation_action_emails_only_learners_without_a_password(
    client, staff_user, cohort, mailoutbox, django_capture_on_commit_callbacks
):
    from programmes.tests.factories import EnrolmentFactory

    invited = UserFactory(email="new.learner@example.org")
    invited.set_unusable_password()
    invited.save()
    waiting = EnrolmentFactory(learner=invited, cohort=cohort, status="invited")
    has_account = EnrolmentFactory(cohort=cohort)  # factory users have a password already
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:programmes_enrolment_changelist"),
            {"action": "resend_invitations", "_selected_action": [waiting.pk, has_account.pk]},
        )
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["new.learner@example.org"]]
    assert "/welcome/" in mailoutbox[0].body
