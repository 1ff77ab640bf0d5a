"""A real Celery worker issuing into S3-compatible storage (moto's server on 127.0.0.1) while the
storage goes away mid-run: the task retries (the certificate stays pending, no file, never issued
without one), then issues once the storage is back; the certificate issued before the outage
keeps its file. Skips without Redis/PostgreSQL/moto locally; fails in CI."""

import hashlib
import time

import pytest

from certificates.models import Certificate
from programmes.services import achievements_record
from programmes.tests.factories import EnrolmentFactory

from .test_worker import wait_for_status

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_storage_outage_mid_run_is_retried_then_the_certificate_issues(
    s3_storage, celery_worker, enrolment, cohort, framework, facilitator
):
    competencies = framework["competencies"]
    second = EnrolmentFactory(learner__email="second.learner@example.org", cohort=cohort)
    with celery_worker(**s3_storage.env()) as worker:
        achievements_record(enrolment=enrolment, competencies=competencies, recorded_by=facilitator)
        first = wait_for_status(enrolment, Certificate.Status.ISSUED)
        assert s3_storage.keys() == [first.pdf.name]

        s3_storage.outage()
        achievements_record(enrolment=second, competencies=competencies, recorded_by=facilitator)
        assert worker.wait_for_line("trying again in", timeout=60), worker.log()[-3000:]
        during = Certificate.objects.get(enrolment=second)
        assert during.status == Certificate.Status.PENDING
        assert (during.pdf.name, during.sha256, during.issued_at) == ("", "", None)
        time.sleep(1)

        s3_storage.restore()
        restored = time.monotonic()
        issued = wait_for_status(second, Certificate.Status.ISSUED, timeout=90)
        print(f"FIGURE storage-outage: storage back -> certificate issued: {time.monotonic() - restored:.1f} s")
    assert "ConnectionClosedError" in worker.log() or "EndpointConnectionError" in worker.log()
    assert sorted(s3_storage.keys()) == sorted([first.pdf.name, issued.pdf.name])
    assert hashlib.sha256(s3_storage.read(issued.pdf.name)).hexdigest() == issued.sha256
    assert hashlib.sha256(s3_storage.read(first.pdf.name)).hexdigest() == first.sha256
    assert issued.failure_reason == ""
