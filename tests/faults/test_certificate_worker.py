"""The certificate worker under faults, with real processes: a Celery worker (prefork) against
Redis and the test's PostgreSQL database.

- The worker is SIGKILLed while it holds a certificate's claim, mid-render or after writing the
  PDF but before its finishing update; a restarted worker (the message redelivered) or the sweeper
  (the message lost) takes the stale claim over: exactly one issued certificate, one file, no
  orphan.
- Two workers race for the same certificate, the first overtaken while still alive: one issued
  certificate, one file.
- The broker is unreachable when a facilitator records the last competency: the page answers as
  usual, the certificate stays pending, and the sweeper enqueues it once the broker is back.

The worker runs the test-only app ``tests.faults.certificate_worker_app`` (pauses at a chosen
stage, short claim timeout). Each test prints what it measured (``FIGURE certificate-worker: …``;
``pytest -s`` shows them; docs/reliability.md lists them). Skipped locally without Redis or
PostgreSQL, a failure in CI.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from certificates.keys import development_keys_create
from certificates.models import Certificate, certificate_pdf_name
from certificates.services import certificate_issue_enqueue, certificates_enqueue_stale
from programmes.services import achievements_record
from tests.support import workers
from tests.support.workers import (
    celery_broker_switched,
    celery_worker_process,
    redis_flushdb,
    require_worker_services,
    signing_keys_use,
    worker_env_for_tests,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

APP = "tests.faults.certificate_worker_app"
CLAIM_TIMEOUT = 4  # seconds; 120 in production


def figure(name: str, seconds: float) -> None:
    print(f"FIGURE certificate-worker: {name}: {seconds * 1000:.0f} ms")


@pytest.fixture(scope="module")
def signing_key_files(tmp_path_factory):
    return development_keys_create(tmp_path_factory.mktemp("signing-keys"))


@pytest.fixture
def worker(settings, signing_key_files, monkeypatch):
    """``worker(stage="", seconds=0, concurrency=1, **env)``: a real worker of the test-only app,
    pausing ``seconds`` at ``stage`` ("render", "stored" or none). The broker's Redis database is
    emptied before and after (FLUSHDB of that one database)."""
    require_worker_services()
    signing_keys_use(settings, signing_key_files)
    settings.SITE_URL = "https://academy.example.org"
    settings.CERTIFICATE_CLAIM_TIMEOUT_SECONDS = CLAIM_TIMEOUT
    monkeypatch.setattr(workers, "SLOW_WORKER_APP", APP)
    redis_flushdb(settings.CELERY_BROKER_URL)

    def start(stage: str = "", seconds: float = 0, concurrency: int = 1, **env: str):
        env = {
            "SLOW_CERTIFICATE_STAGE": stage,
            "CERTIFICATE_CLAIM_TIMEOUT_SECONDS": str(CLAIM_TIMEOUT),
            "CELERY_VISIBILITY_TIMEOUT": "3",
            **env,
        }
        return celery_worker_process(env=worker_env_for_tests(**env), concurrency=concurrency, slow_seconds=seconds)

    yield start
    redis_flushdb(settings.CELERY_BROKER_URL)


def stored_pdfs() -> list[str]:
    media = Path(settings.MEDIA_ROOT)
    return sorted(p.relative_to(media).as_posix() for p in media.rglob("*.pdf"))


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


def issued(enrolment, timeout: float = 40) -> Certificate:
    def check():
        certificate = Certificate.objects.filter(enrolment=enrolment).first()
        return certificate if certificate and certificate.status == Certificate.Status.ISSUED else None

    return wait_for(check, timeout, "the certificate issued")


def assert_one_issued_certificate_and_one_file(certificate: Certificate) -> None:
    assert Certificate.objects.filter(enrolment_id=certificate.enrolment_id).count() == 1
    assert certificate.claim_token == "" and certificate.version == 1
    assert stored_pdfs() == [certificate.pdf.name]  # one file: the issued one, no orphan
    output = subprocess.run(["pdfsig", certificate.pdf.path], capture_output=True, text=True).stdout
    assert "Signature is Valid." in output
    assert set(certificate.history.filter(status="issued").values_list("sha256", flat=True)) == {certificate.sha256}


def kill_while_claimed(worker, enrolment, framework, facilitator, stage: str):
    """Complete the enrolment with a worker pausing at ``stage``; SIGKILL the whole worker there.
    Returns (the claim it left, when it was killed)."""
    with worker(stage=stage, seconds=60) as doomed:
        achievements_record(enrolment=enrolment, competencies=framework["competencies"], recorded_by=facilitator)
        assert doomed.wait_for_line(f"SLOW CERTIFICATE {stage}", timeout=30), doomed.log()[-3000:]
        doomed.kill(signal.SIGKILL)
        killed_at = time.monotonic()
        doomed.process.wait(timeout=10)
    certificate = Certificate.objects.get(enrolment=enrolment)
    assert certificate.status == Certificate.Status.PENDING and certificate.claim_token
    return certificate, killed_at


def test_worker_killed_mid_render_then_restarted_issues_once(worker, enrolment, framework, facilitator):
    certificate, killed_at = kill_while_claimed(worker, enrolment, framework, facilitator, "render")
    assert stored_pdfs() == []  # killed before anything was written
    # kombu restores an unacknowledged message when a worker starts (then only every 100 s), and
    # only once it is older than the visibility timeout: start the new worker after that (3 s),
    # as a real restart after a crash would be, or it could come up too soon to see the message.
    time.sleep(max(0.0, killed_at + 3.5 - time.monotonic()))
    with worker():
        # Redis redelivers the unacknowledged message (visibility timeout 3 s); the new worker
        # finds the claim live, looks again when it goes stale (4 s), and takes it over.
        certificate = issued(enrolment)
        recovered = time.monotonic() - killed_at
    figure("SIGKILL mid-render -> issued by a restarted worker (visibility 3 s, claim timeout 4 s)", recovered)
    assert_one_issued_certificate_and_one_file(certificate)


def test_worker_killed_after_storing_the_pdf_then_swept_leaves_no_orphan(worker, enrolment, framework, facilitator):
    certificate, killed_at = kill_while_claimed(worker, enrolment, framework, facilitator, "stored")
    orphan = certificate_pdf_name(token=certificate.claim_token, when=certificate.claimed_at)
    assert stored_pdfs() == [orphan]  # the killed attempt's file, which no row names
    redis_flushdb(settings.CELERY_BROKER_URL)  # and its message is lost: only the sweeper can help
    with worker():
        swept = certificates_enqueue_stale(older_than=datetime.timedelta(0))
        assert swept == [certificate.pk]
        certificate = issued(enrolment)
        recovered = time.monotonic() - killed_at
    figure("SIGKILL after storing the PDF, message lost -> swept and issued, orphan removed", recovered)
    assert certificate.pdf.name != orphan
    assert_one_issued_certificate_and_one_file(certificate)


def test_two_workers_racing_for_one_certificate_issue_once_with_one_file(worker, enrolment, framework, facilitator):
    # Rendering takes 8 s, longer than the claim timeout: the second worker takes over the first
    # one's claim while the first is still alive. The first then loses its finishing update.
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(worker(stage="render", seconds=8))
        second = stack.enter_context(worker(stage="render", seconds=8))
        achievements_record(enrolment=enrolment, competencies=framework["competencies"], recorded_by=facilitator)
        certificate = Certificate.objects.get(enrolment=enrolment)
        assert certificate_issue_enqueue(certificate.pk)  # a second message for the same certificate
        certificate = issued(enrolment, timeout=50)
        wait_for(
            lambda: "another attempt issued it" in first.log() + second.log(), 20, "the overtaken attempt to finish"
        )
        logs = first.log() + second.log()
    assert logs.count("SLOW CERTIFICATE render") == 2, logs[-4000:]  # both really rendered
    assert "took over a claim" in logs
    certificate.refresh_from_db()
    assert_one_issued_certificate_and_one_file(certificate)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the socket is: nothing listens there


def test_broker_down_recording_the_last_competency_answers_and_the_sweeper_issues_later(
    worker, settings, enrolment, framework, facilitator, caplog
):
    *first, last = framework["competencies"]
    achievements_record(enrolment=enrolment, competencies=first, recorded_by=facilitator)
    client = Client()
    client.force_login(facilitator)
    url = reverse("programmes:cohort_progress", args=[enrolment.cohort_id])
    data = {
        "tick": [f"{enrolment.pk}-{c.pk}" for c in framework["competencies"]],
        "before-" + str(enrolment.pk): ",".join(str(c.pk) for c in first),
        "evidence": "",
    }
    client.get(url)  # warm up (templates, the session), so the figure is the broker's cost only
    broker_down = f"redis://127.0.0.1:{closed_port()}/0"
    with celery_broker_switched(settings, broker_down), caplog.at_level(logging.WARNING, "certificates.services"):
        started = time.monotonic()
        response = client.post(url, data, follow=True)
        took = time.monotonic() - started
        started = time.monotonic()
        assert certificate_issue_enqueue(Certificate.objects.get(enrolment=enrolment).pk) is False
        publish = time.monotonic() - started
    figure("facilitator records the last competency, broker unreachable (POST + redirect)", took)
    figure("publishing the issue task, broker unreachable (refused)", publish)
    assert response.status_code == 200
    assert "has now completed the programme. Their certificate is being prepared." in response.text
    assert any("Could not enqueue certificate" in r.getMessage() for r in caplog.records)
    certificate = Certificate.objects.get(enrolment=enrolment)
    assert certificate.status == Certificate.Status.PENDING
    enrolment.refresh_from_db()
    assert enrolment.status == enrolment.Status.COMPLETED
    # The broker is back: the sweeper (here called at once) enqueues it, a worker issues it.
    with worker():
        assert certificates_enqueue_stale(older_than=datetime.timedelta(0)) == [certificate.pk]
        certificate = issued(enrolment)
    assert_one_issued_certificate_and_one_file(certificate)
