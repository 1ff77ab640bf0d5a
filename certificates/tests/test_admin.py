"""Staff admin: list and filter, revoke with a reason, reissue, retry, the pending count."""

import datetime

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from certificates.models import Certificate, CertificateVersion
from certificates.tests.conftest import complete

CHANGELIST = reverse("admin:certificates_certificate_changelist")


def test_changelist_filters_and_searches(admin_client_for_staff, completed_certificate):
    response = admin_client_for_staff.get(CHANGELIST, {"status__exact": "issued", "q": "Łukasz"})
    assert response.status_code == 200
    assert completed_certificate.verification_code in response.content.decode()
    response = admin_client_for_staff.get(CHANGELIST, {"status__exact": "failed"})
    assert completed_certificate.verification_code not in response.content.decode()


def test_change_page_is_read_only_and_shows_the_failure_reason(
    admin_client_for_staff, enrolment, framework, facilitator
):
    from certificates.services import certificate_fail

    complete(enrolment, framework, facilitator)
    certificate = Certificate.objects.get(enrolment=enrolment)
    certificate_fail(certificate_id=certificate.pk, reason="Could not sign the PDF: key not found")
    url = reverse("admin:certificates_certificate_change", args=[certificate.pk])
    html = admin_client_for_staff.get(url).content.decode()
    assert "Could not sign the PDF: key not found" in html
    assert 'name="learner_name"' not in html  # read-only snapshot
    listing = admin_client_for_staff.get(CHANGELIST).content.decode()
    assert "Could not sign the PDF" in listing


def test_revoke_action_asks_for_a_reason_then_revokes(admin_client_for_staff, completed_certificate, staff_user):
    data = {"action": "revoke_action", ACTION_CHECKBOX_NAME: [completed_certificate.pk]}
    response = admin_client_for_staff.post(CHANGELIST, data)
    assert response.status_code == 200
    assert "Reason for revoking" in response.content.decode()
    completed_certificate.refresh_from_db()
    assert completed_certificate.status == "issued"
    # Without a reason: the form again, nothing revoked.
    response = admin_client_for_staff.post(CHANGELIST, {**data, "apply": "1", "reason": ""})
    assert response.status_code == 200
    completed_certificate.refresh_from_db()
    assert completed_certificate.status == "issued"
    response = admin_client_for_staff.post(CHANGELIST, {**data, "apply": "1", "reason": "Issued in error"})
    assert response.status_code == 302
    completed_certificate.refresh_from_db()
    assert completed_certificate.status == "revoked"
    assert completed_certificate.revocation_reason == "Issued in error"
    assert completed_certificate.revoked_by == staff_user
    assert completed_certificate.history.first().history_user == staff_user


def test_reissue_action_makes_a_new_version(
    admin_client_for_staff, completed_certificate, learner, django_capture_on_commit_callbacks
):
    learner.full_name = "Zoe O'Brien"
    learner.save(update_fields=["full_name"])
    data = {"action": "reissue_action", ACTION_CHECKBOX_NAME: [completed_certificate.pk]}
    assert "Zoe O&#x27;Brien" in admin_client_for_staff.post(CHANGELIST, data).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_for_staff.post(CHANGELIST, {**data, "apply": "1", "reason": "Name corrected"})
    assert response.status_code == 302
    completed_certificate.refresh_from_db()
    assert completed_certificate.version == 2 and completed_certificate.status == "issued"
    assert completed_certificate.learner_name == "Zoe O'Brien"
    assert CertificateVersion.objects.get(certificate=completed_certificate).reason == "Name corrected"


def test_retry_action_only_retries_failed(
    admin_client_for_staff, enrolment, framework, facilitator, completed_certificate_other
):
    from certificates.services import certificate_fail

    complete(enrolment, framework, facilitator)
    failed = Certificate.objects.get(enrolment=enrolment)
    certificate_fail(certificate_id=failed.pk, reason="boom")
    data = {"action": "retry_action", ACTION_CHECKBOX_NAME: [failed.pk, completed_certificate_other.pk]}
    response = admin_client_for_staff.post(CHANGELIST, data, follow=True)
    html = response.content.decode()
    assert "1 certificate will be tried again." in html
    assert "Only a failed certificate can be retried" in html
    failed.refresh_from_db()
    assert failed.status in ("pending", "issued")


def test_admin_index_shows_certificates_pending_too_long(admin_client_for_staff, enrolment, framework, facilitator):
    complete(enrolment, framework, facilitator)
    html = admin_client_for_staff.get(reverse("admin:index")).content.decode()
    assert "0 certificates have been pending for more than 10 minutes." in html
    Certificate.objects.filter(enrolment=enrolment).update(requested_at=timezone.now() - datetime.timedelta(minutes=11))
    html = admin_client_for_staff.get(reverse("admin:index")).content.decode()
    assert "1 certificate has been pending for more than 10 minutes." in html
    assert "?status__exact=pending" in html
