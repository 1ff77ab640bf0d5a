"""Fault tests of invitation delivery: a real Celery worker process, Redis, PostgreSQL and a real
SMTP server (aiosmtpd, ``tests.support.smtp``), with parts switched off.

- the worker SIGKILLed half-way through a batch, then restarted: every learner exactly one email;
- the mail server down (its port closed), then back: every invitation sent, once, by the retries;
- the broker unreachable when learners are enrolled: the request answers as usual, the
  invitations wait in the database, and the sweeper has them sent;
- the broker emptied (FLUSHDB) before a worker took the messages: the sweeper has them sent.

Without Redis/PostgreSQL these skip locally and fail in CI (``tests.support.workers``).
"""

from __future__ import annotations

import contextlib
import datetime
import time

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from academy import services
from academy.models import Invitation, User
from academy.tasks import invitations_sweep_task
from tests.support.smtp import SmtpSink, free_port
from tests.support.workers import (
    celery_broker_switched,
    celery_worker_process,
    redis_flushdb,
    require_worker_services,
    worker_env_for_tests,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sink():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def worker_for(settings):
    """``worker_for(sink, **env)``: a real worker whose email goes to ``sink`` (a context manager).
    The broker's Redis database is emptied first (FLUSHDB of that one database)."""
    require_worker_services()
    redis_flushdb(settings.CELERY_BROKER_URL)

    def start(sink, **env):
        return celery_worker_process(env=worker_env_for_tests(EMAIL_URL=sink.email_url, LOG_LEVEL="INFO", **env))

    return start


def wait_until(predicate, timeout: float, what: str, worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    log = f"\nworker log:\n{worker.log()[-4000:]}" if worker is not None else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{log}")


def invited_people(n: int) -> list[User]:
    users = [User(email=f"learner{i}@example.org", full_name=f"Łucja Ó'Learner {i}") for i in range(n)]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users)
    return list(User.objects.filter(email__startswith="learner").order_by("pk"))


def invite(users) -> None:
    with transaction.atomic():
        services.learner_invitations_queue(learners=users)


def assert_each_exactly_once(sink, users):
    assert sink.recipients() == {u.email: 1 for u in users}
    assert Invitation.objects.filter(status=Invitation.Status.SENT).count() == len(users)
    assert not Invitation.objects.exclude(status=Invitation.Status.SENT).exists()


def test_worker_killed_half_way_through_a_batch_then_restarted_sends_each_invitation_once(sink, worker_for):
    """200 invitations (4 chunks of 50). The whole worker (main process and pool child) is
    SIGKILLed while the 100th message is with the mail server, before the server accepts it. The
    killed chunk's message is unacknowledged: the restarted worker gets it back once the
    visibility timeout (3 s here) has passed; its first half is already marked sent (skipped),
    the message that was cut off is sent again, and the rest go once."""
    users = invited_people(200)
    killed = []
    with worker_for(sink, CELERY_VISIBILITY_TIMEOUT="3") as worker:

        def kill_at_the_hundredth(number):
            if number == 100 and not killed:
                worker.kill()  # SIGKILL, whole process group
                killed.append(number)
                return "451 4.3.0 Connection going away"  # never seen: the client is dead
            return None

        sink.on_message = kill_at_the_hundredth
        invite(users)
        wait_until(lambda: killed, 60, "the worker to be killed", worker)
        worker.process.wait(timeout=10)
    sink.on_message = None
    sent_before_restart = sink.count()
    assert sent_before_restart == 99
    assert Invitation.objects.filter(status=Invitation.Status.SENT).count() == 99  # nothing accepted goes unrecorded
    time.sleep(3)  # the visibility timeout passes
    with worker_for(sink, CELERY_VISIBILITY_TIMEOUT="3") as worker:
        wait_until(lambda: sink.count() >= 200, 60, "all 200 invitations", worker)
        time.sleep(1)  # any duplicate (there should be none) would arrive now
    assert_each_exactly_once(sink, users)


def test_mail_server_down_then_back_every_invitation_goes_once(sink, worker_for):
    """The mail server's port is closed when the chunks run: each chunk records the error
    (connection refused) and retries itself 5 s later; the server is back by then."""
    users = invited_people(60)
    sink.stop()
    with worker_for(sink) as worker:
        invite(users)
        wait_until(
            lambda: not Invitation.objects.filter(attempts=0).exists(),
            30,
            "both chunks to meet the closed port",
            worker,
        )
        failed = Invitation.objects.first()
        assert failed.status == Invitation.Status.PENDING and "refused" in failed.last_error.lower()
        assert sink.count() == 0
        sink.start()
        wait_until(lambda: sink.count() >= 60, 45, "the retries to send all 60", worker)
        time.sleep(1)
    assert_each_exactly_once(sink, users)
    assert sink.connections == 2  # one per chunk, on the try that worked
    assert "Retry in" in worker.log() or "trying again" in worker.log()


@contextlib.contextmanager
def minutes_passed():
    """As if INVITATION_SWEEP_AFTER_MINUTES had passed for every pending invitation."""
    Invitation.objects.filter(status=Invitation.Status.PENDING).update(
        sweep_after=timezone.now() - datetime.timedelta(seconds=1)
    )
    yield


def test_broker_unreachable_when_enrolling_the_request_answers_and_the_sweeper_sends_later(
    client, coordinator, cohort, settings, sink, worker_for
):
    client.force_login(coordinator)
    with celery_broker_switched(settings, f"redis://127.0.0.1:{free_port()}/0"):
        started = time.monotonic()
        response = client.post(
            reverse("partners:enrol_one", args=[cohort.pk]), {"email": "ann@example.org", "full_name": "Ann Example"}
        )
        elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:cohort_detail", args=[cohort.pk])
    assert elapsed < 5, f"the enrolment took {elapsed:.1f} s with the broker down"
    invitation = Invitation.objects.get(user__email="ann@example.org")
    assert invitation.status == Invitation.Status.PENDING
    # Trying again says "already in this cohort" - and that is now true and harmless: the
    # invitation is recorded and will go.
    with worker_for(sink) as worker:
        time.sleep(1)
        assert sink.count() == 0  # nothing was queued
        with minutes_passed():
            invitations_sweep_task.delay()  # what Celery beat sends every 2 minutes
        wait_until(lambda: sink.count() >= 1, 30, "the swept invitation", worker)
        time.sleep(1)
    assert sink.recipients() == {"ann@example.org": 1}
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT


def test_broker_emptied_before_a_worker_took_the_messages_the_sweeper_sends_them(settings, sink, worker_for):
    users = invited_people(70)
    require_worker_services()
    invite(users)  # two chunk messages wait in Redis; no worker yet
    redis_flushdb(settings.CELERY_BROKER_URL)  # ... and are lost
    with worker_for(sink) as worker:
        time.sleep(1)
        assert sink.count() == 0
        with minutes_passed():
            invitations_sweep_task.delay()
        wait_until(lambda: sink.count() >= 70, 45, "the swept invitations", worker)
        time.sleep(1)
    assert_each_exactly_once(sink, users)
