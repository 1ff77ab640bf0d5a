"""Staff's "Invite learners to this cohort" page."""

import pytest
from django.urls import reverse

from academy.models import User
from programmes.models import Enrolment

pytestmark = pytest.mark.django_db


def _url(cohort):
    return reverse("programmes:cohort_invite", args=[cohort.pk])


def test_staff_invite_and_enrol_several(
    client, staff_user, cohort, learner, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(staff_user)
    assert client.get(_url(cohort)).status_code == 200
    people = "Ngozi Adé, ngozi@example.org\nLEARNER@example.org, Zoë\n\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(cohort), {"people": people})
    assert response.status_code == 302
    ngozi = User.objects.get(email="ngozi@example.org")
    assert ngozi.full_name == "Ngozi Adé" and not ngozi.has_usable_password()
    assert set(Enrolment.objects.filter(cohort=cohort).values_list("learner__email", "status")) == {
        ("ngozi@example.org", "invited"),
        ("learner@example.org", "invited"),
    }
    assert Enrolment.objects.get(learner=ngozi).enrolled_by == staff_user
    # Only the new account gets an invitation; the existing one already signs in.
    assert [m.to for m in mailoutbox] == [["ngozi@example.org"]]


def test_bad_lines_are_explained_and_nothing_is_saved(client, staff_user, cohort):
    client.force_login(staff_user)
    response = client.post(_url(cohort), {"people": "Ngozi Adé, ngozi@example.org\nJust a name\nAmy, not-an-email@"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Line 2" in body and "Line 3" in body
    assert not User.objects.filter(email="ngozi@example.org").exists()


def test_already_enrolled_rolls_everything_back(client, staff_user, cohort, enrolment):
    client.force_login(staff_user)
    response = client.post(_url(cohort), {"people": "Ngozi Adé, ngozi@example.org\nZoë, learner@example.org"})
    assert response.status_code == 200
    assert "already enrolled" in response.content.decode()
    assert not User.objects.filter(email="ngozi@example.org").exists()


@pytest.mark.parametrize("who", ["facilitator", "coordinator", "viewer", "learner"])
def test_only_staff_may_invite(client, request, cohort, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(_url(cohort)).status_code == 404
    assert client.post(_url(cohort), {"people": "A, a@example.org"}).status_code == 404
    assert not User.objects.filter(email="a@example.org").exists()
