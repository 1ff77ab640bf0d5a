"""The partner portal's emails: what an invitation says the learner is invited to (registered
with ``academy.services.invitation_details_register``), and the “you have been added to …” email
to a learner who already has an account."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from programmes.models import Enrolment


def _details(enrolment: Enrolment) -> dict:
    cohort = enrolment.cohort
    return {
        "programme": cohort.programme.title,
        "cohort": cohort.name,
        "partner": cohort.partner.name,
        "venue": cohort.venue,
        "starts_on": cohort.starts_on,
        "ends_on": cohort.ends_on,
    }


def invited_to(user) -> list[dict]:
    """The cohorts ``user`` is invited to (enrolments still “invited”), each with its programme,
    partner, venue and start date, soonest first (one query)."""
    enrolments = (
        Enrolment.objects.filter(learner=user, status=Enrolment.Status.INVITED)
        .select_related("cohort__programme", "cohort__partner")
        .order_by("cohort__starts_on", "pk")
    )
    return [_details(enrolment) for enrolment in enrolments]


def enrolment_added_message(*, enrolment: Enrolment, enrolled_by=None) -> EmailMultiAlternatives:
    """The “you have been added to …” email for ``enrolment`` (not sent)."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "user": enrolment.learner,
            "enrolled_by": enrolled_by,
            "item": _details(enrolment),
            "url": settings.SITE_URL + reverse("home"),
            "SITE_URL": settings.SITE_URL,
        }
        subject = render_to_string("portal/email/added/subject.txt", context)
        subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split())
        body_txt = render_to_string("portal/email/added/body.txt", context)
        body_html = render_to_string("portal/email/added/body.html", context)
    message = EmailMultiAlternatives(subject, body_txt, settings.DEFAULT_FROM_EMAIL, [enrolment.learner.email])
    message.attach_alternative(body_html, "text/html")
    return message
