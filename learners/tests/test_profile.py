"""The profile: the name on certificates, requests for a reissue, and the personal data download."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from academy.models import NameChangeRequest
from certificates.models import Certificate
from programmes.services import achievement_record
from programmes.tests.factories import AchievementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client


def _issue(enrolment):
    certificate, _ = Certificate.objects.get_or_create(
        enrolment=enrolment, defaults={"verification_code": "ABCDE-12345"}
    )
    Certificate.objects.filter(pk=certificate.pk).update(
        status=Certificate.Status.ISSUED, issued_at="2026-01-05T10:00Z", sha256="b" * 64, learner_name="Zoë O'Brien"
    )
    return certificate


def test_profile_shows_the_name_on_certificates(learner_client):
    body = learner_client.get(reverse("profile")).content.decode()
    assert "Zoë Ó&#x27;Brien-Łukasz" in body
    assert reverse("personal_data") in body


def test_name_changes_at_once_before_any_certificate(learner_client, learner, enrolment):
    response = learner_client.post(reverse("profile"), {"full_name": "  Zoë   Ó'Brien  "})
    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.full_name == "Zoë Ó'Brien"
    assert not NameChangeRequest.objects.exists()


def test_name_change_after_issue_asks_staff(learner_client, learner, enrolment):
    _issue(enrolment)
    response = learner_client.post(
        reverse("profile"), {"full_name": "Zoë Ó'Brien", "reason": "Missing accent"}, follow=True
    )
    learner.refresh_from_db()
    assert learner.full_name == "Zoë Ó'Brien-Łukasz"  # unchanged until staff act
    request = NameChangeRequest.objects.get()
    assert request.status == NameChangeRequest.Status.OPEN
    assert (request.current_name, request.requested_name, request.reason) == (
        "Zoë Ó'Brien-Łukasz",
        "Zoë Ó'Brien",
        "Missing accent",
    )
    assert "asked the Academy" in response.content.decode()
    # Asking again updates the one open request.
    learner_client.post(reverse("profile"), {"full_name": "Zoe O'Brien"})
    assert NameChangeRequest.objects.get().requested_name == "Zoe O'Brien"


def test_staff_approve_a_name_change(client, learner, enrolment, staff_user):
    _issue(enrolment)
    client.force_login(learner)
    client.post(reverse("profile"), {"full_name": "Zoë Ó'Brien"})
    client.force_login(staff_user)
    page = client.get(reverse("name_change_requests")).content.decode()
    assert "Zoë Ó&#x27;Brien" in page
    request = NameChangeRequest.objects.get()
    client.post(reverse("name_change_requests"), {"request_id": request.pk, "decision": "approve"})
    learner.refresh_from_db()
    request.refresh_from_db()
    assert learner.full_name == "Zoë Ó'Brien"
    assert request.status == NameChangeRequest.Status.DONE and request.resolved_by == staff_user


@pytest.mark.parametrize("who", ["learner", "coordinator", "facilitator"])
def test_only_staff_see_name_change_requests(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("name_change_requests")).status_code == 404
    assert client.post(reverse("name_change_requests"), {"request_id": 1, "decision": "approve"}).status_code == 404


def test_empty_name_is_refused(learner_client, learner):
    response = learner_client.post(reverse("profile"), {"full_name": "   "})
    assert response.status_code == 200
    learner.refresh_from_db()
    assert learner.full_name == "Zoë Ó'Brien-Łukasz"


def test_personal_data_download(learner_client, learner, enrolment, framework, facilitator, other_learner):
    achievement_record(
        enrolment=enrolment, competency=framework["competencies"][0], recorded_by=facilitator, evidence="Role play"
    )
    AchievementFactory(enrolment=other_learner.enrolments.get(), competency=framework["competencies"][1])
    _issue(enrolment)
    response = learner_client.get(reverse("personal_data"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["account"]["email"] == "learner@example.org"
    assert data["account"]["full_name"] == "Zoë Ó'Brien-Łukasz"
    [item] = data["enrolments"]
    assert item["programme"] == "Lived Experience of Poverty"
    assert item["achievements"] == [
        {
            "competency": framework["competencies"][0].statement,
            "achieved_on": item["achievements"][0]["achieved_on"],
            "recorded_by": "Fay Facilitator",
            "evidence": "Role play",
        }
    ]
    [certificate] = data["certificates"]
    assert certificate["programme"] == "Lived Experience of Poverty"
    assert certificate["verification_code"] == "ABCDE-12345"
    assert certificate["status"] == "issued"
    assert list(data) == [
        "account",
        "name_change_requests",
        "invitations",
        "partner_memberships",
        "cohorts_facilitated",
        "enrolments",
        "certificates",
        "equality_monitoring",
    ]
    assert "other.learner@example.org" not in response.content.decode()


def test_personal_data_of_a_coordinator_lists_memberships(client, coordinator):
    client.force_login(coordinator)
    data = client.get(reverse("personal_data")).json()
    assert data["partner_memberships"][0]["organisation"] == "Hackney Community Voices"
    assert data["enrolments"] == []


def test_anonymous_is_sent_to_sign_in(client):
    for name in ("profile", "personal_data"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("request_id", ["abc", "", "-1", "1.5", "99999999999999999999", "\x00", "١٢", "x" * 500])
def test_a_name_change_request_id_that_is_not_one_gets_404(client, staff_user, request_id):
    client.force_login(staff_user)
    response = client.post(reverse("name_change_requests"), {"request_id": request_id, "decision": "approve"})
    assert response.status_code == 404


def test_staff_cannot_approve_a_requested_name_that_breaks_the_rule_of_names(client, learner, staff_user):
    """A request recorded before the rule (straight into the table) is not approved from the
    staff page: the staff member is told why, the name and the request stay as they were."""
    original = learner.full_name
    request = NameChangeRequest.objects.create(user=learner, current_name=original, requested_name="\u202eevil")
    client.force_login(staff_user)
    response = client.post(
        reverse("name_change_requests"), {"request_id": request.pk, "decision": "approve"}, follow=True
    )
    assert response.status_code == 200
    assert "changes the direction of text" in response.content.decode()
    learner.refresh_from_db()
    request.refresh_from_db()
    assert learner.full_name == original and request.status == NameChangeRequest.Status.OPEN


def test_the_service_refuses_to_approve_a_hidden_character_name(learner, staff_user):
    from django.core.exceptions import ValidationError

    from academy.services import name_change_request_resolve

    request = NameChangeRequest.objects.create(user=learner, current_name=learner.full_name, requested_name="\u200b")
    with pytest.raises(ValidationError):
        name_change_request_resolve(name_change_request=request, resolved_by=staff_user, approve=True)
    request.refresh_from_db()
    assert request.status == NameChangeRequest.Status.OPEN


def test_personal_data_download_lists_the_invitations_sent_to_the_person(learner_client, learner, other_learner):
    from academy.models import Invitation

    Invitation.objects.create(user=learner, status=Invitation.Status.SENT, attempts=1, sweep_after=timezone.now())
    Invitation.objects.create(user=other_learner, sweep_after=timezone.now())
    data = learner_client.get(reverse("personal_data")).json()
    [invitation] = data["invitations"]
    assert invitation["status"] == "sent" and invitation["attempts"] == 1
