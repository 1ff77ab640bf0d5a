"""Emails print names as written: subjects and text parts are plain text (never HTML-escaped),
HTML parts stay escaped; and allauth's emails come from the Academy, not "example.com"."""

import hashlib

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.sites.models import Site
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from academy.tests.factories import UserFactory
from certificates.models import Certificate
from certificates.services import certificate_email_send
from programmes.tests.factories import CohortFactory, EnrolmentFactory, ProgrammeFactory

NAME = "Seán O'Brien & <Sons>"
ESCAPED = "Seán O&#x27;Brien &amp; &lt;Sons&gt;"
PROGRAMME = "Women's Health & <Research>"


def _parts(message):
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    return message.subject, message.body, html


def _assert_plain_and_escaped(text_parts, html, *, name=NAME):
    for part in text_parts:
        assert "&#x27;" not in part and "&amp;" not in part and "&lt;" not in part
    assert name in text_parts[-1]
    assert ESCAPED in html and NAME not in html


@pytest.fixture
def learner_named(db):
    return UserFactory(email="sean@example.org", full_name=NAME)


def test_the_certificate_email_prints_names_as_written(learner_named, mailoutbox):
    programme = ProgrammeFactory(title=PROGRAMME, slug="womens-health")
    cohort = CohortFactory(programme=programme, name="Spring & <summer>")
    enrolment = EnrolmentFactory(learner=learner_named, cohort=cohort)
    pdf = b"%PDF-1.7\n% a stand-in for the signed certificate\n"
    certificate = Certificate(
        enrolment=enrolment,
        verification_code="PLAIN-0TEST-C0DE1-AAAAA",
        status=Certificate.Status.ISSUED,
        learner_name=NAME,
        programme_title=PROGRAMME,
        cohort_name=cohort.name,
        partner_name=cohort.partner.name,
        sha256=hashlib.sha256(pdf).hexdigest(),
        issued_at=timezone.now(),
    )
    certificate.pdf.save("plain.pdf", ContentFile(pdf), save=False)
    certificate.save()
    assert certificate_email_send(certificate_id=certificate.pk)
    subject, body, html = _parts(mailoutbox[0])
    assert PROGRAMME in subject
    assert PROGRAMME in body
    _assert_plain_and_escaped([subject, body], html)
    assert "Women&#x27;s Health &amp; &lt;Research&gt;" in html


def test_the_invitation_email_prints_names_as_written(learner_named):
    """The invitation's three templates, rendered as academy.services renders them (the sending
    itself is being reworked into chunks; the templates are what decide the escaping)."""
    inviter = UserFactory(email="coordinator@example.org", full_name="Dónal D'Arcy & <Co>")
    context = {
        "user": learner_named,
        "invited_by": inviter,
        "url": "https://academy.example.org/welcome/x/y/?a=1&b=2",
        "days": 7,
        "SITE_URL": settings.SITE_URL,
    }
    subject = render_to_string("academy/email/invitation/subject.txt", context)
    body = render_to_string("academy/email/invitation/body.txt", context)
    html = render_to_string("academy/email/invitation/body.html", context)
    _assert_plain_and_escaped([subject, body], html)
    assert "Dónal D'Arcy & <Co> has invited you" in body
    assert "https://academy.example.org/welcome/x/y/?a=1&b=2" in body
    assert "Dónal D&#x27;Arcy &amp; &lt;Co&gt;" in html


def test_the_site_is_named_from_settings_after_migrate(db):
    site = Site.objects.get(pk=settings.SITE_ID)
    assert site.name == settings.SITE_NAME == "Citizen Science Academy"
    assert site.domain == settings.SITE_URL.split("://", 1)[1]
    assert "example.com" not in (site.name, site.domain)


def test_the_site_follows_the_settings_at_the_next_migrate(db, settings):
    from django.apps import apps
    from django.db.models.signals import post_migrate

    settings.SITE_NAME = "Academy O'Brien"
    settings.SITE_URL = "https://academy.example.net:8443"
    post_migrate.send(sender=apps.get_app_config("academy"), app_config=apps.get_app_config("academy"), using="default")
    site = Site.objects.get(pk=settings.SITE_ID)
    assert (site.name, site.domain) == ("Academy O'Brien", "academy.example.net:8443")


def test_the_password_reset_email_comes_from_the_academy(client, learner_named, mailoutbox):
    EmailAddress.objects.create(user=learner_named, email=learner_named.email, verified=True, primary=True)
    response = client.post(reverse("account_reset_password"), {"email": learner_named.email})
    assert response.status_code == 302
    message = mailoutbox[0]
    assert "Citizen Science Academy" in message.body
    assert "example.com" not in message.body and "example.com" not in message.subject
    assert "&#x27;" not in message.body and "&amp;" not in message.body
    assert "Hello from Citizen Science Academy!" in message.body
