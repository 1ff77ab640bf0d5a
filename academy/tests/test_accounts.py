"""Signing in: password, emailed code, password reset; the admin's sign-in goes through allauth."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from academy.tests.factories import DEFAULT_PASSWORD, UserFactory

NEW_PASSWORD = "purple-otter-lantern-42"


@pytest.fixture
def verified_learner(learner):
    EmailAddress.objects.create(user=learner, email=learner.email, verified=True, primary=True)
    return learner


def _signed_in_as(client, user) -> bool:
    return client.session.get("_auth_user_id") == str(user.pk)


@pytest.mark.django_db
def test_sign_in_with_password(client, verified_learner):
    response = client.post(reverse("account_login"), {"login": "LEARNER@example.org", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert _signed_in_as(client, verified_learner)


@pytest.mark.django_db
def test_wrong_password_is_refused_and_then_rate_limited(client, verified_learner):
    responses = [
        client.post(reverse("account_login"), {"login": verified_learner.email, "password": "wrong"}) for _ in range(6)
    ]
    assert responses[0].status_code == 200  # the form again, with an error
    assert "Too many failed login attempts" not in responses[0].content.decode()
    # allauth's login_failed limit: 5 per 5 minutes per address; even the right password waits.
    assert "Too many failed login attempts" in responses[-1].content.decode()
    client.post(reverse("account_login"), {"login": verified_learner.email, "password": DEFAULT_PASSWORD})
    assert not _signed_in_as(client, verified_learner)


@pytest.mark.django_db
def test_unverified_address_must_be_verified_first(client, learner, mailoutbox):
    response = client.post(reverse("account_login"), {"login": learner.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert not _signed_in_as(client, learner)
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [learner.email]


@pytest.mark.django_db
def test_sign_in_with_emailed_code(client, verified_learner, mailoutbox):
    response = client.post(reverse("account_request_login_code"), {"email": verified_learner.email})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_confirm_login_code")
    assert len(mailoutbox) == 1
    code = re.search(r"^\s*([A-Z0-9]{3,}(?:-[A-Z0-9]+)*)\s*$", mailoutbox[0].body, re.MULTILINE).group(1)
    response = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert _signed_in_as(client, verified_learner)


@pytest.mark.django_db
def test_wrong_code_does_not_sign_in(client, verified_learner, mailoutbox):
    client.post(reverse("account_request_login_code"), {"email": verified_learner.email})
    response = client.post(reverse("account_confirm_login_code"), {"code": "NOPE-NOPE"})
    assert response.status_code == 200
    assert not _signed_in_as(client, verified_learner)


@pytest.mark.django_db
def test_password_reset(client, verified_learner, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": verified_learner.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = re.search(r"http://[^/]+(/accounts/password/reset/key/\S+/)", mailoutbox[0].body).group(1)
    response = client.get(link)
    assert response.status_code == 302  # allauth moves the key into the session
    set_url = response["Location"]
    response = client.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    verified_learner.refresh_from_db()
    assert verified_learner.check_password(NEW_PASSWORD)
    assert _signed_in_as(client, verified_learner)  # ACCOUNT_LOGIN_ON_PASSWORD_RESET
    client.logout()
    client.post(reverse("account_login"), {"login": verified_learner.email, "password": NEW_PASSWORD})
    assert _signed_in_as(client, verified_learner)


@pytest.mark.django_db
def test_sign_up_is_closed(client):
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    assert "Accounts are by invitation" in response.content.decode()


@pytest.mark.django_db
def test_allauth_pages_use_the_site_layout(client):
    for name in ("account_login", "account_request_login_code", "account_reset_password"):
        body = client.get(reverse(name)).content.decode()
        assert "vendor/bootstrap/bootstrap.min.css" in body, name
        assert 'id="main"' in body, name
        assert "form-control" in body, name  # crispy-bootstrap5 fields
        assert 'class="form-label' in body, name
        assert 'class="btn btn-primary' in body, name


@pytest.mark.django_db
def test_admin_login_redirects_to_allauth_keeping_next(client):
    response = client.get("/admin/login/?next=/admin/programmes/")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login") + "?next=/admin/programmes/"
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("account_login") + "?next=/admin/"


@pytest.mark.django_db
def test_admin_login_refuses_foreign_next(client):
    response = client.get("/admin/login/?next=https://evil.example.com/")
    assert response["Location"] == reverse("account_login") + "?next=/admin/"


@pytest.mark.django_db
def test_admin_login_post_cannot_bypass_allauth(client):
    staff = UserFactory(email="boss@example.org", staff=True)
    response = client.post("/admin/login/", {"username": staff.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert not _signed_in_as(client, staff)


@pytest.mark.django_db
def test_staff_sign_in_then_reach_admin(client, staff_user):
    EmailAddress.objects.create(user=staff_user, email=staff_user.email, verified=True, primary=True)
    response = client.post(
        reverse("account_login") + "?next=/admin/",
        {"login": staff_user.email, "password": DEFAULT_PASSWORD, "next": "/admin/"},
    )
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
