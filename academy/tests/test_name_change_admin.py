"""Staff deal with learners' name-correction requests in the admin."""

import pytest
from django.urls import reverse

from academy.models import NameChangeRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def name_change(learner):
    return NameChangeRequest.objects.create(
        user=learner, current_name=learner.full_name, requested_name="Zoë O'Brien-Łukasz", reason="Accent misplaced"
    )


def test_approve_action_corrects_the_name(client, staff_user, learner, name_change):
    client.force_login(staff_user)
    changelist = reverse("admin:academy_namechangerequest_changelist")
    assert "Brien-Łukasz" in client.get(changelist).text
    client.post(changelist, {"action": "approve_selected", "_selected_action": [name_change.pk]})
    learner.refresh_from_db()
    name_change.refresh_from_db()
    assert learner.full_name == "Zoë O'Brien-Łukasz"
    assert name_change.status == NameChangeRequest.Status.DONE
    assert name_change.resolved_by == staff_user


def test_decline_action_keeps_the_name(client, staff_user, learner, name_change):
    client.force_login(staff_user)
    before = learner.full_name
    client.post(
        reverse("admin:academy_namechangerequest_changelist"),
        {"action": "decline_selected", "_selected_action": [name_change.pk]},
    )
    learner.refresh_from_db()
    name_change.refresh_from_db()
    assert learner.full_name == before
    assert name_change.status == NameChangeRequest.Status.DECLINED
