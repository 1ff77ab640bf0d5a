"""The people admin refuses names that would not print honestly (issue 14, item 6)."""

import pytest
from django.urls import reverse

from academy.models import NameChangeRequest, User

pytestmark = pytest.mark.django_db

HOSTILE = ["\u202e\u200b", "\u202eevil", "Ann\u200b", "\u3164", "\u2800", "\u200d", "Ann\u200c", "123"]


def _add(admin_client, name):
    return admin_client.post(
        reverse("admin:academy_user_add"),
        {"email": "new@example.org", "full_name": name, "usable_password": "false"},
    )


@pytest.mark.parametrize("name", HOSTILE)
def test_adding_a_person_with_a_hostile_name_is_refused(admin_client, name):
    response = _add(admin_client, name)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["full_name"]
    assert not User.objects.filter(email="new@example.org").exists()


def test_a_persian_name_is_added_and_accents_composed(admin_client):
    assert _add(admin_client, "Rene\u0301e فرزانه\u200cی").status_code == 302
    assert User.objects.get(email="new@example.org").full_name == "Renée فرزانه\u200cی"


def test_changing_a_name_to_a_hostile_one_is_refused(admin_client, learner):
    url = reverse("admin:academy_user_change", args=[learner.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in {"groups", "user_permissions"}}
    data |= {"full_name": "\u202eevil", "date_joined_0": "2026-01-01", "date_joined_1": "10:00:00"}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "changes the direction of text" in str(response.context["adminform"].form.errors["full_name"])
    learner.refresh_from_db()
    assert learner.full_name == "Zoë Ó'Brien-Łukasz"


def test_a_request_for_a_hostile_name_is_not_approved(client, staff_user, learner):
    request = NameChangeRequest.objects.create(
        user=learner, current_name=learner.full_name, requested_name="\u202eevil"
    )
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:academy_namechangerequest_changelist"),
        {"action": "approve_selected", "_selected_action": [request.pk]},
        follow=True,
    )
    assert "Not approved for learner@example.org" in response.content.decode()
    learner.refresh_from_db()
    request.refresh_from_db()
    assert learner.full_name == "Zoë Ó'Brien-Łukasz"
    assert request.status == NameChangeRequest.Status.OPEN
