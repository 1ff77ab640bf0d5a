"""The certificates app's gauges on /metrics (certificates.metrics, read by academy.metrics):
pending certificates and the oldest one's age, failed ones, the integrity check's failures;
one query whatever the number of rows, and a whole scrape within a fixed bound."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone

from academy.models import Invitation
from academy.tests.test_metrics import AUTH, TOKEN, invitation_with, scrape, value
from certificates import metrics as certificate_metrics
from certificates.models import Certificate, CertificateIntegrityCheck
from programmes.tests.factories import EnrolmentFactory


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []


def certificate_with(status, *, requested_minutes_ago=0):
    done = {"issued_at": timezone.now(), "sha256": "0" * 64, "revoked_at": timezone.now()}
    certificate = Certificate.objects.create(
        enrolment=EnrolmentFactory(),
        verification_code=uuid.uuid4().hex[:20],
        status=status,
        **(done if status in (Certificate.Status.ISSUED, Certificate.Status.REVOKED) else {}),
    )
    Certificate.objects.filter(pk=certificate.pk).update(
        requested_at=timezone.now() - datetime.timedelta(minutes=requested_minutes_ago)
    )
    return certificate


@pytest.fixture
def waiting_work(db):
    """Three certificates pending (the oldest requested 45 minutes ago), two failed, one issued,
    one revoked; two invitations unsent (the oldest recorded 20 minutes ago), one sent, one failed."""
    certificate_with(Certificate.Status.PENDING, requested_minutes_ago=45)
    certificate_with(Certificate.Status.PENDING, requested_minutes_ago=5)
    certificate_with(Certificate.Status.PENDING)
    certificate_with(Certificate.Status.FAILED, requested_minutes_ago=300)
    certificate_with(Certificate.Status.FAILED)
    certificate_with(Certificate.Status.ISSUED, requested_minutes_ago=600)
    certificate_with(Certificate.Status.REVOKED, requested_minutes_ago=900)
    invitation_with(Invitation.Status.PENDING, minutes_ago=20)
    invitation_with(Invitation.Status.PENDING, minutes_ago=1)
    invitation_with(Invitation.Status.SENT, minutes_ago=600)
    invitation_with(Invitation.Status.FAILED, minutes_ago=900)


def test_gauges_count_what_waits_and_how_long_the_oldest_has(client, token, waiting_work):
    samples = scrape(client, **AUTH)
    assert value(samples, "academy_certificates_pending") == 3
    assert 45 * 60 <= value(samples, "academy_certificates_pending_oldest_age_seconds") < 46 * 60
    assert value(samples, "academy_certificates_failed") == 2
    assert value(samples, "academy_invitations_unsent") == 2
    assert 20 * 60 <= value(samples, "academy_invitations_unsent_oldest_age_seconds") < 21 * 60


def test_nothing_waiting_is_zero_not_missing(client, token, db):
    samples = scrape(client, **AUTH)
    assert value(samples, "academy_certificates_pending") == 0
    assert value(samples, "academy_certificates_pending_oldest_age_seconds") == 0
    assert value(samples, "academy_certificates_failed") == 0
    assert value(samples, "academy_invitations_unsent") == 0
    assert value(samples, "academy_invitations_unsent_oldest_age_seconds") == 0


def test_each_source_makes_one_query_however_many_rows(waiting_work, django_assert_num_queries):
    with django_assert_num_queries(1):
        certificate_metrics.certificates_waiting()
    for _ in range(5):
        certificate_with(Certificate.Status.PENDING)
    with django_assert_num_queries(1):
        certificate_metrics.certificates_waiting()


def test_a_whole_scrape_makes_a_fixed_small_number_of_queries(
    client, token, waiting_work, django_assert_max_num_queries
):
    # Certificates, invitations and the integrity check's latest run: one query each.
    with django_assert_max_num_queries(3):
        scrape(client, **AUTH)


def test_the_integrity_checks_failures_are_those_of_its_latest_finished_run(client, token, db):
    """``certificates.selectors.integrity_failures()`` (check_certificates): 0 before a first run,
    then the latest finished run's count (a run still going does not count)."""
    assert value(scrape(client, **AUTH), "academy_certificate_integrity_failures") == 0
    now = timezone.now()
    CertificateIntegrityCheck.objects.create(
        started_at=now - datetime.timedelta(days=7, minutes=5), finished_at=now - datetime.timedelta(days=7), failures=1
    )
    CertificateIntegrityCheck.objects.create(
        started_at=now - datetime.timedelta(minutes=5), finished_at=now - datetime.timedelta(minutes=1), failures=3
    )
    CertificateIntegrityCheck.objects.create(started_at=now, failures=0)  # still running
    assert value(scrape(client, **AUTH), "academy_certificate_integrity_failures") == 3
