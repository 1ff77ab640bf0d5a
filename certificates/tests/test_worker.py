"""Integration: a REAL Celery worker process (prefork) against Redis and PostgreSQL.

The worker uses this test's database (committed data: ``transaction=True``) and media folder.
Without Redis/PostgreSQL these skip locally and fail in CI (``tests.support.workers``).
"""

import datetime
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import close_old_connections, connection

from certificates.models import Certificate
from certificates.services import certificates_enqueue_stale
from programmes.services import achievement_record, achievements_record
from tests.support.workers import celery_broker_switched, private_redis_server

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for_status(enrolment, status, timeout=60.0):
    """Poll the database until the enrolment's certificate has ``status`` (or time runs out)."""
    deadline = time.monotonic() + timeout
    certificate = None
    while time.monotonic() < deadline:
        certificate = Certificate.objects.filter(enrolment=enrolment).first()
        if certificate is not None and certificate.status == status:
            return certificate
        time.sleep(0.2)
    state = f"{certificate.status}: {certificate.failure_reason}" if certificate else "no certificate"
    raise AssertionError(f"certificate not {status} after {timeout}s ({state})")


def pdf_files():
    return sorted(Path(settings.MEDIA_ROOT).rglob("*.pdf"))


def assert_valid_signed_pdf(certificate):
    output = subprocess.run(["pdfsig", certificate.pdf.path], capture_output=True, text=True).stdout
    assert "Signature is Valid." in output


def test_completing_a_learner_gets_an_issued_valid_certificate(celery_worker, enrolment, framework, facilitator):
    with celery_worker() as worker:
        achievements_record(enrolment=enrolment, competencies=framework["competencies"], recorded_by=facilitator)
        certificate = wait_for_status(enrolment, Certificate.Status.ISSUED)
        # The email is sent (and emailed_at written) just after the row becomes issued.
        deadline = time.monotonic() + 30
        while certificate.emailed_at is None and time.monotonic() < deadline:
            time.sleep(0.2)
            certificate.refresh_from_db()
        assert "certificates.tasks.certificate_issue_task" in worker.log()
    assert_valid_signed_pdf(certificate)
    assert certificate.emailed_at is not None
    mails = list((Path(settings.MEDIA_ROOT).parent / "mail").glob("*.log"))
    assert mails and certificate.verification_code in mails[0].read_text()


def test_twenty_concurrent_completions_give_one_certificate_and_one_pdf(
    celery_worker, enrolment, framework, facilitator
):
    *first, last = framework["competencies"]
    achievements_record(enrolment=enrolment, competencies=first, recorded_by=facilitator)
    barrier = threading.Barrier(20)
    errors = []

    def record():
        try:
            barrier.wait(timeout=10)
            achievement_record(enrolment=enrolment, competency=last, recorded_by=facilitator)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    with celery_worker(concurrency=2) as _worker:
        threads = [threading.Thread(target=record) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        certificate = wait_for_status(enrolment, Certificate.Status.ISSUED)
        # Let any duplicate message (there should be none) be processed before counting.
        time.sleep(1)
    assert Certificate.objects.filter(enrolment=enrolment).count() == 1
    assert len(pdf_files()) == 1
    assert_valid_signed_pdf(certificate)
    close_old_connections()


def test_a_worker_killed_mid_task_then_restarted_still_issues(celery_worker, enrolment, framework, facilitator):
    # The whole worker (main process and pool child) dies while the task sleeps inside it. A new
    # worker restores the unacknowledged message once the visibility timeout (short here) passes.
    with celery_worker(slow_seconds=30, CELERY_VISIBILITY_TIMEOUT="3") as worker:
        achievements_record(enrolment=enrolment, competencies=framework["competencies"], recorded_by=facilitator)
        assert worker.wait_for_line("certificate_issue_task", timeout=30), worker.log()
        time.sleep(0.5)
        worker.kill(signal.SIGKILL)
        worker.process.wait(timeout=10)
    assert Certificate.objects.get(enrolment=enrolment).status == Certificate.Status.PENDING
    assert pdf_files() == []
    time.sleep(3)
    with celery_worker(CELERY_VISIBILITY_TIMEOUT="3"):
        certificate = wait_for_status(enrolment, Certificate.Status.ISSUED, timeout=60)
    assert_valid_signed_pdf(certificate)
    assert len(pdf_files()) == 1


def test_a_pool_child_killed_mid_task_is_requeued_at_once(celery_worker, enrolment, framework, facilitator):
    # reject_on_worker_lost: the main process requeues the message when its pool child dies.
    with celery_worker(slow_seconds=3) as worker:
        achievements_record(enrolment=enrolment, competencies=framework["competencies"], recorded_by=facilitator)
        assert worker.wait_for_line("certificate_issue_task", timeout=30), worker.log()
        time.sleep(0.5)
        children = worker.child_pids()
        assert children, "no pool process found"
        for pid in children:
            subprocess.run(["kill", "-KILL", str(pid)], check=False)
        certificate = wait_for_status(enrolment, Certificate.Status.ISSUED, timeout=60)
    assert_valid_signed_pdf(certificate)


def test_redis_flushall_after_completion_then_the_sweeper_still_issues(
    celery_worker, settings, enrolment, framework, facilitator
):
    """Redis loses everything (FLUSHALL, as a restart of a Redis that keeps nothing on disk would):
    the completion's message is gone, the certificate stays pending, and the sweeper saves it.
    FLUSHALL empties a whole server, so the test runs its own redis-server rather than the shared one."""
    import redis

    with private_redis_server() as broker, celery_broker_switched(settings, broker):
        # No worker yet: the message waits in Redis, then Redis loses it.
        achievements_record(enrolment=enrolment, competencies=framework["competencies"], recorded_by=facilitator)
        assert Certificate.objects.get(enrolment=enrolment).status == Certificate.Status.PENDING
        client = redis.Redis.from_url(broker)
        assert client.llen("celery") == 1  # the issue task, enqueued after commit
        client.flushall()
        assert client.dbsize() == 0
        client.close()
        with celery_worker(CELERY_BROKER_URL=broker):
            time.sleep(1)
            assert Certificate.objects.get(enrolment=enrolment).status == Certificate.Status.PENDING
            enqueued = certificates_enqueue_stale(older_than=datetime.timedelta(0))
            assert len(enqueued) == 1
            certificate = wait_for_status(enrolment, Certificate.Status.ISSUED)
    assert_valid_signed_pdf(certificate)
