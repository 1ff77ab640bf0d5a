"""Benchmark of invitation emails: 2,000 learners invited, a real worker sending to a real SMTP server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/academy_bench_invitations \
    REDIS_URL=redis://127.0.0.1:6379/4 python bench/invitations.py [--learners 2000] [--concurrency 2]

The bench starts an SMTP server of its own (aiosmtpd on 127.0.0.1, a free port, in a thread of
this process: ``tests.support.smtp.SmtpSink``) and a real Celery worker (prefork) whose
EMAIL_URL points at it, then:

1. records ``--learners`` invitations in one transaction, as an enrolment of that many does
   (``learner_invitations_queue``: one row each, one task per ``INVITATION_CHUNK_SIZE`` queued
   after commit), and times how long until the mail server has them all; it checks that every
   learner got exactly one email and every row says sent, and counts SMTP connections;
2. does the same for as many new learners, but SIGKILLs the whole worker (main process and pool
   processes) once half the emails have arrived, at whatever point it is, and starts a new one
   once the visibility timeout has passed (5 s here), so that it takes back the killed chunks'
   unacknowledged messages (in production the timeout is 30 minutes and the sweeper, after 3,
   comes first). The same figures, and how many emails arrived twice: a learner whose message
   the server accepted in the moment between that acceptance and the worker's commit of "sent"
   (the window at-least-once delivery leaves) gets it twice. ``--kills N`` repeats part 2 N times to show how rare that is.

The database named in DATABASE_URL is DROPPED and created again: give it its own name (the
script refuses a name without "bench"). The broker's Redis database is emptied (FLUSHDB of that
one database). Figures are printed, not asserted; the exit status is 1 if a learner got no
email (or two in part 1).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")

VISIBILITY_TIMEOUT = 5


def make_learners(prefix: str, count: int):
    from django.contrib.auth.hashers import make_password

    from academy.models import User

    unusable = make_password(None)
    User.objects.bulk_create(
        [
            User(email=f"{prefix}{i}@bench.example", full_name=f"Łucja Ó'Bench {i}", password=unusable)
            for i in range(count)
        ]
    )
    return list(User.objects.filter(email__startswith=prefix).order_by("pk"))


def invite(users) -> float:
    """Record the invitations in one transaction (tasks queued at commit); seconds it took."""
    from django.db import transaction

    from academy.services import learner_invitations_queue

    started = time.perf_counter()
    with transaction.atomic():
        learner_invitations_queue(learners=users)
    return time.perf_counter() - started


def sent_count(users) -> int:
    from academy.models import Invitation

    return Invitation.objects.filter(user__in=users, status=Invitation.Status.SENT).count()


def wait_for_all(sink, users, started: float, timeout: float = 600) -> float:
    """Seconds from ``started`` until every row says sent and the server has every learner."""
    wanted = {u.email for u in users}
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if sink.count() >= len(users) and sent_count(users) >= len(users) and wanted <= set(sink.recipients()):
            break
        time.sleep(0.05)
    return time.perf_counter() - started


def report(label: str, sink, users, wall: float) -> tuple[int, int]:
    """Print the figures; returns (missing, duplicated)."""
    received = sink.recipients()
    emails = {u.email for u in users}
    missing = len(emails - set(received))
    duplicated = sum(1 for e in emails if received.get(e, 0) > 1)
    extra = sum(max(received.get(e, 0) - 1, 0) for e in emails)
    states = _status_counts(users)
    print(f"  {label}")
    print(
        f"    {sink.count()} emails to {len(received)} learners in {wall:.1f} s "
        f"({len(users) / wall:.0f} invitations/s), over {sink.connections} SMTP connections"
    )
    print(
        f"    every learner exactly one email: {'yes' if not missing and not duplicated else 'NO'} "
        f"(missing {missing}, twice or more {duplicated}, extra emails {extra}); rows: {states}"
    )
    return missing, duplicated


def _status_counts(users) -> dict[str, int]:
    from django.db.models import Count

    from academy.models import Invitation

    rows = Invitation.objects.filter(user__in=users).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


def run(sink, learners: int, concurrency: int, kills: int) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from academy.services import invitations_sweep
    from tests.support.workers import celery_worker_process, redis_flushdb

    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL:
        print("Needs DATABASE_URL (PostgreSQL) and REDIS_URL (the worker's broker).")
        return 1
    call_command("migrate", verbosity=0)
    redis_flushdb(settings.CELERY_BROKER_URL)
    env = {
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "EMAIL_URL": sink.email_url,
        "LOG_LEVEL": "WARNING",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    }
    status = 0
    print(
        f"{learners} learners, chunks of {settings.INVITATION_CHUNK_SIZE}, a worker with {concurrency} pool "
        f"processes, SMTP server aiosmtpd at {sink.host}:{sink.port}"
    )

    print("1. All invitations at once, nothing goes wrong:")
    users = make_learners("first", learners)
    with celery_worker_process(env=env, concurrency=concurrency) as worker:
        started = time.perf_counter()
        recorded = invite(users)
        wall = wait_for_all(sink, users, started)
        time.sleep(1)  # any duplicate would arrive now
    print(
        f"    {learners} invitations recorded and {-(-learners // settings.INVITATION_CHUNK_SIZE)} tasks queued in {recorded:.2f} s"
    )
    missing, duplicated = report("sent:", sink, users, wall)
    if missing or duplicated:
        status = 1
        print(worker.log()[-3000:])

    for run_number in range(1, kills + 1):
        print(
            f"2. The worker SIGKILLed half-way and restarted{f' (run {run_number} of {kills})' if kills > 1 else ''}:"
        )
        sink.clear()
        redis_flushdb(settings.CELERY_BROKER_URL)
        users = make_learners(f"kill{run_number}x", learners)
        with celery_worker_process(env=env, concurrency=concurrency) as worker:
            started = time.perf_counter()
            invite(users)
            while sink.count() < learners // 2 and time.perf_counter() - started < 300:
                time.sleep(0.005)
            time.sleep(random.uniform(0, 0.05))  # not right after an acceptance: anywhere in a message
            worker.kill()  # SIGKILL to the whole process group: main process and pool
            worker.process.wait(timeout=10)
            killed_at = time.perf_counter() - started
            time.sleep(0.2)
        at_kill = sink.count()
        recorded_at_kill = sent_count(users)
        print(
            f"    killed after {killed_at:.2f} s: {at_kill} emails had arrived, {recorded_at_kill} rows said sent "
            f"({at_kill - recorded_at_kill} accepted but not yet recorded when the worker died)"
        )
        # A Redis consumer gives back unacknowledged messages older than the visibility timeout
        # when it starts (and then only every 100 s or so): the new worker starts once it has passed.
        time.sleep(VISIBILITY_TIMEOUT + 0.5)
        restarted = time.perf_counter()
        with celery_worker_process(env=env, concurrency=concurrency):
            wall = wait_for_all(sink, users, started)
            finished = time.perf_counter() - restarted
            time.sleep(1)
        print(
            f"    a new worker, started {VISIBILITY_TIMEOUT + 0.5:.1f} s after the kill (the visibility timeout), "
            f"finished the rest {finished:.1f} s after it started"
        )
        missing, duplicated = report("sent:", sink, users, wall)
        left = invitations_sweep(now=_far_future())
        print(f"    left pending for the sweeper afterwards: {len(left)}")
        if missing:
            status = 1
    redis_flushdb(settings.CELERY_BROKER_URL)
    return status


def _far_future():
    import datetime

    from django.utils import timezone

    return timezone.now() + datetime.timedelta(days=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--kills", type=int, default=1, help="how many times to run part 2")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("DATABASE_URL must be a PostgreSQL database whose name contains 'bench'.")
    from benchdb import recreate_database

    from tests.support.smtp import SmtpSink

    recreate_database(os.environ["DATABASE_URL"])
    with SmtpSink() as sink:
        os.environ["EMAIL_URL"] = sink.email_url
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        sys.exit(run(sink, args.learners, args.concurrency, args.kills))


if __name__ == "__main__":
    main()
