"""Invitations: a new learner, an expired link, a used link, bulk and re-send."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from academy import services
from academy.models import User
from academy.tests.factories import UserFactory
from programmes.models import Enrolment
from programmes.services import enrolment_create

pytestmark = pytest.mark.django_db(transaction=False)

NEW_PASSWORD = "blue-kettle-garden-77"


@pytest.fixture(autouse=True)
def _tasks_in_process(settings):
    """Run Celery tasks in-process: with a broker configured, Celery reads CELERY_TASK_ALWAYS_EAGER
    from Django's settings before ``app.conf.task_always_eager``, so set it where it is read."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


def _link(message) -> str:
    match = re.search(r"https?://[^\s]+/welcome/[^\s]+/", message.body)
    assert match, message.body
    return match.group(0).split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_invite_creates_account_without_password_and_emails_after_commit(
    django_capture_on_commit_callbacks, mailoutbox, staff_user
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user = services.learner_invite(email="New.Person@Example.org ", full_name=" Ngozi Adé ", invited_by=staff_user)
    assert mailoutbox == []  # nothing leaves before the transaction commits
    assert len(callbacks) == 1
    callbacks[0]()
    assert user.email == "new.person@example.org"
    assert user.full_name == "Ngozi Adé"
    assert not user.has_usable_password()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["new.person@example.org"]
    assert "invited" in message.subject
    assert "/welcome/" in message.body
    assert "Sam Staff" in message.body
    assert message.alternatives and "/welcome/" in message.alternatives[0][0]


def test_invite_finds_existing_account_case_insensitively(django_capture_on_commit_callbacks, mailoutbox):
    existing = UserFactory(email="zoe@example.org", full_name="Zoë")
    with django_capture_on_commit_callbacks(execute=True):
        user = services.learner_invite(email="ZOE@example.org", full_name="Someone Else")
    assert user.pk == existing.pk
    assert User.objects.count() == 1
    assert mailoutbox == []  # they already have a password: they sign in


def test_new_learner_accepts_invitation_and_lands_signed_in(
    client, django_capture_on_commit_callbacks, mailoutbox, cohort
):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.learner_invite(email="ngozi@example.org", full_name="Ngozi Adé")
        enrolment = enrolment_create(learner=user, cohort=cohort)
    link = _link(mailoutbox[0])
    response = client.get(link)
    assert response.status_code == 302  # token moved into the session
    set_password_url = response["Location"]
    assert "set-password" in set_password_url
    response = client.get(set_password_url)
    assert response.status_code == 200
    assert "Choose a password" in response.content.decode()
    response = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)
    address = EmailAddress.objects.get(user=user)
    assert address.verified and address.primary and address.email == "ngozi@example.org"
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.ACTIVE


def test_used_link_shows_clear_page(client, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        services.learner_invite(email="ngozi@example.org", full_name="Ngozi Adé")
    link = _link(mailoutbox[0])
    set_password_url = client.get(link)["Location"]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    client.logout()
    response = client.get(link, follow=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert "This link no longer works" in body
    assert reverse("invitation_request") in body


def test_expired_link_shows_clear_page_and_new_link_works(
    client, settings, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        services.learner_invite(email="ngozi@example.org", full_name="Ngozi Adé")
    link = _link(mailoutbox[0])
    settings.INVITATION_TIMEOUT_DAYS = -1  # every link is now past its lifetime
    response = client.get(link, follow=True)
    assert "This link no longer works" in response.content.decode()
    settings.INVITATION_TIMEOUT_DAYS = 14
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("invitation_request"), {"email": "NGOZI@example.org"})
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert len(mailoutbox) == 2
    new_link = _link(mailoutbox[1])
    response = client.get(new_link)
    assert "set-password" in response["Location"]


def test_tampered_link_is_refused(client, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        services.learner_invite(email="ngozi@example.org", full_name="Ngozi Adé")
    link = _link(mailoutbox[0])
    response = client.get(link[:-3] + "xx/", follow=True)
    assert "This link no longer works" in response.content.decode()


def test_password_reset_token_is_not_an_invitation_token(client, db):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = User.objects.create_user(email="x@example.org", full_name="X", password=None)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    response = client.get(reverse("welcome", args=[uid, default_token_generator.make_token(user)]), follow=True)
    assert "This link no longer works" in response.content.decode()


def test_new_link_request_answers_the_same_for_unknown_address(client, mailoutbox, learner):
    unknown = client.post(reverse("invitation_request"), {"email": "nobody@example.org"})
    has_password = client.post(reverse("invitation_request"), {"email": learner.email})
    assert unknown.status_code == has_password.status_code == 200
    assert unknown.content == has_password.content
    assert mailoutbox == []


def test_new_link_request_is_rate_limited(client, mailoutbox, django_capture_on_commit_callbacks):
    services.learner_invite(email="ngozi@example.org", full_name="Ngozi Adé")
    statuses = []
    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            statuses.append(client.post(reverse("invitation_request"), {"email": "ngozi@example.org"}).status_code)
    assert statuses == [200, 200, 200, 429]
    assert len(mailoutbox) == 3


def test_bulk_queue_records_invitations_and_sends_them_in_chunks_after_commit(
    django_capture_on_commit_callbacks, mailoutbox, monkeypatch, settings
):
    from academy import tasks
    from academy.models import Invitation

    settings.INVITATION_CHUNK_SIZE = 2
    users = []
    for n in range(4):
        user = User(email=f"bulk{n}@example.org", full_name=f"Bulk {n}")
        user.set_unusable_password()
        users.append(user)
    User.objects.bulk_create(users)
    users = list(User.objects.filter(email__startswith="bulk").order_by("email"))
    users[0].set_password(NEW_PASSWORD)  # this one set a password meanwhile: skipped
    users[0].save()
    calls = []
    real_apply_async = tasks.invitations_send_task.apply_async
    monkeypatch.setattr(
        tasks.invitations_send_task,
        "apply_async",
        lambda *a, **k: calls.append(k["args"][0]) or real_apply_async(*a, **k),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.learner_invitations_queue(learners=users)
        assert calls == [] and Invitation.objects.count() == 3  # recorded now, queued after commit
    invitations = {i.pk: i.user.email for i in Invitation.objects.select_related("user")}
    assert [len(chunk) for chunk in calls] == [2, 1]
    assert sorted(invitations[pk] for chunk in calls for pk in chunk) == [f"bulk{n}@example.org" for n in (1, 2, 3)]
    assert sorted(m.to[0] for m in mailoutbox) == ["bulk1@example.org", "bulk2@example.org", "bulk3@example.org"]
    assert set(Invitation.objects.values_list("status", flat=True)) == {Invitation.Status.SENT}


def test_resend_sends_a_fresh_link(django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.learner_invite(email="ngozi@example.org", full_name="Ngozi Adé")
    with django_capture_on_commit_callbacks(execute=True):
        services.learner_invitation_resend(learner=user)
    assert len(mailoutbox) == 2
    assert mailoutbox[1].to == ["ngozi@example.org"]
