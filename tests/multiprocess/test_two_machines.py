"""Two web processes and two workers, one Academy: what several machines behind the same
PostgreSQL, Redis and object storage must do.

Two gunicorn processes and two Celery workers (prefork, one pool process each), each with a media
folder of its own (MEDIA_ROOT), so only the shared object storage (moto's S3 server on
127.0.0.1, ``tests.support.s3``) can make a file written by one visible to the others. A
facilitator signed in on each web process completes 200 learners through the learner checklist,
half on each, two at a time; mid-run the sweeper sends every certificate still pending once more,
so the two workers race for the same certificates. Then:

- each enrolment has one certificate, issued exactly once (one history row of the finishing
  update that issues it), with one
  PDF object whose bytes match its SHA-256, and no other object in the bucket (no orphan);
- each learner got exactly one email;
- both workers issued certificates (their task logs), and no media folder holds a file;
- a partner coordinator signed in on each web process downloads every one of the 200 PDFs, each
  from the web process that did not record its completion, and every tenth from both. That is
  enough to show that either process serves any file: neither holds a file of its own (their
  media folders stay empty, asserted), so what one can serve depends only on the shared storage;
  each object is fetched at least once, and 20 through both processes (220 downloads, not 400:
  the test stays within a few minutes on two shared cores).

The run prints its stages' times (``pytest -s``). Marked ``worker``: it runs in the normal suite;
skipped locally without Redis, PostgreSQL or moto, a failure in CI.
"""

from __future__ import annotations

import collections
import datetime
import hashlib
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from certificates.keys import development_keys_create
from certificates.models import Certificate
from certificates.services import certificates_enqueue_stale
from partners.models import PartnerMembership
from programmes.tests.factories import CohortFactory, CompetencyFactory, CoreDomainFactory, EnrolmentFactory
from tests.faults.web_process import PASSWORD, Browser, gunicorn_process, require_postgresql, signed_in_person
from tests.support.workers import (
    celery_worker_process,
    redis_flushdb,
    require_worker_services,
    signing_keys_use,
    worker_env_for_tests,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LEARNERS = 200
ISSUE_TIMEOUT = 240.0


def stage(name: str, started: float) -> None:
    print(f"FIGURE two-machines: {name}: {time.monotonic() - started:.1f} s")


def fetch(browser: Browser, path: str, data: dict[str, str] | None = None) -> tuple[int, bytes]:
    """A request through the browser's cookies; the raw body (a PDF is not text)."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(browser.base_url + path, data=body)  # noqa: S310 - http://127.0.0.1 only
    if data is not None:
        request.add_header("Referer", browser.base_url + path)
    try:
        with browser.opener.open(request, timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def csrf_token(browser: Browser, path: str) -> str:
    page = browser.get(path)
    assert page.status == 200, (page.status, page.text[:500])
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, "no CSRF token on " + path
    return match.group(1)


def in_parallel(jobs) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(job):
        try:
            job()
        except BaseException as exc:  # collected, asserted by the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=ISSUE_TIMEOUT)
    return errors


def test_two_web_processes_and_two_workers_issue_each_certificate_once(settings, tmp_path, s3_storage):
    started = time.monotonic()
    require_worker_services()
    require_postgresql()
    signing_keys_use(settings, development_keys_create(tmp_path / "keys"))
    settings.SITE_URL = "https://academy.example.org"

    # One programme of one competency, one cohort of 200 learners, its facilitator and coordinator.
    competency = CompetencyFactory(domain=CoreDomainFactory(name="Ethics"))
    facilitator = signed_in_person(email="fay@example.org", full_name="Fay Facilitator", password=PASSWORD)
    coordinator = signed_in_person(email="cora@example.org", full_name="Cora Coordinator", password=PASSWORD)
    cohort = CohortFactory(capacity=LEARNERS)
    cohort.facilitators.add(facilitator)
    PartnerMembership.objects.create(
        user=coordinator, organisation=cohort.partner, role=PartnerMembership.Role.COORDINATOR
    )
    enrolments = [EnrolmentFactory(cohort=cohort, learner__full_name=f"Learner {i}") for i in range(LEARNERS)]
    stage("data", started)

    base = worker_env_for_tests(**s3_storage.env())
    mail_dir = Path(base["EMAIL_URL"].removeprefix("filemail:///"))
    media = {name: tmp_path / f"media-{name}" for name in ("web-a", "web-b", "worker-1", "worker-2")}
    redis_flushdb(settings.CELERY_BROKER_URL)
    with (
        gunicorn_process({**base, "MEDIA_ROOT": str(media["web-a"])}) as web_a,
        gunicorn_process({**base, "MEDIA_ROOT": str(media["web-b"])}) as web_b,
        celery_worker_process(env={**base, "MEDIA_ROOT": str(media["worker-1"])}) as worker_1,
        celery_worker_process(env={**base, "MEDIA_ROOT": str(media["worker-2"])}) as worker_2,
    ):
        stage("two web processes and two workers started", started)
        facilitators = [Browser(web_a.url), Browser(web_b.url)]
        for browser in facilitators:
            assert browser.sign_in(facilitator.email, PASSWORD).status == 302

        def complete_half(browser: Browser, half: list) -> None:
            first = f"/cohorts/{cohort.pk}/progress/{half[0].pk}/"
            token = csrf_token(browser, first)
            for enrolment in half:
                path = f"/cohorts/{cohort.pk}/progress/{enrolment.pk}/"
                status, body = fetch(
                    browser,
                    path,
                    {
                        "csrfmiddlewaretoken": token,
                        "tick": f"{enrolment.pk}-{competency.pk}",
                        f"before-{enrolment.pk}": "",
                    },
                )
                assert status == 302, (status, body[:500])

        completing = time.monotonic()
        errors = in_parallel(
            [
                lambda: complete_half(facilitators[0], enrolments[0::2]),
                lambda: complete_half(facilitators[1], enrolments[1::2]),
            ]
        )
        assert errors == [], errors
        stage(f"{LEARNERS} completions through both web processes", completing)
        assert Certificate.objects.count() == LEARNERS

        # The sweeper sends what is still pending again: duplicate messages the two workers race for.
        duplicates = len(certificates_enqueue_stale(older_than=datetime.timedelta(0)))
        print(f"FIGURE two-machines: duplicate messages sent by the sweeper: {duplicates}")

        deadline = time.monotonic() + ISSUE_TIMEOUT
        while time.monotonic() < deadline:
            issued = Certificate.objects.filter(status=Certificate.Status.ISSUED, emailed_at__isnull=False).count()
            if issued == LEARNERS:
                break
            time.sleep(0.5)
        not_issued = list(
            Certificate.objects.exclude(status=Certificate.Status.ISSUED).values("status", "failure_reason")[:5]
        )
        assert issued == LEARNERS, (issued, not_issued, worker_1.log()[-2000:], worker_2.log()[-2000:])
        stage(f"all {LEARNERS} issued and emailed (from the first completion)", completing)
        time.sleep(1)  # let any duplicate still running finish before counting files

        # Downloadable from either web process: every PDF through both.
        certificates = list(
            Certificate.objects.order_by("enrolment_id").values("verification_code", "sha256", "pdf", "enrolment_id")
        )
        coordinators = [Browser(web_a.url), Browser(web_b.url)]
        for browser in coordinators:
            assert browser.sign_in(coordinator.email, PASSWORD).status == 302
        downloads = collections.Counter()

        # Each certificate is downloaded through the web process that did not record its completion
        # (enrolments[0::2] went through web-a), and every tenth through both.
        completed_through = {e.pk: ("web-a" if i % 2 == 0 else "web-b") for i, e in enumerate(enrolments)}
        other = {"web-a": "web-b", "web-b": "web-a"}
        plan: dict[str, list[dict]] = {"web-a": [], "web-b": []}
        for i, row in enumerate(certificates):
            through = completed_through[row["enrolment_id"]]
            plan[other[through]].append(row)
            if i % 10 == 0:
                plan[through].append(row)

        def download_all(browser: Browser, name: str) -> None:
            for row in plan[name]:
                status, body = fetch(browser, f"/verify/{row['verification_code']}/download/")
                assert status == 200, (name, status, body[:300])
                assert hashlib.sha256(body).hexdigest() == row["sha256"], name
                downloads[name] += 1
                downloaded[row["verification_code"]].add(name)

        downloaded: dict[str, set[str]] = collections.defaultdict(set)
        downloading = time.monotonic()
        errors = in_parallel(
            [lambda: download_all(coordinators[0], "web-a"), lambda: download_all(coordinators[1], "web-b")]
        )
        assert errors == [], errors
        stage(f"{sum(downloads.values())} downloads (each PDF once, every tenth from both)", downloading)
        logs = {"worker-1": worker_1.log(), "worker-2": worker_2.log()}

    # Exactly once: one certificate per enrolment, one "issued" history row each, one object each.
    assert len(downloaded) == LEARNERS  # every PDF served ...
    assert sum(1 for names in downloaded.values() if names == {"web-a", "web-b"}) == LEARNERS // 10  # ... some by both
    assert set().union(*downloaded.values()) == {"web-a", "web-b"}
    assert Certificate.objects.values("enrolment").distinct().count() == LEARNERS
    # (The finishing update writes the "issued" row; recording the email later writes one with
    # emailed_at set.)
    issued_rows = collections.Counter(
        Certificate.history.filter(
            status=Certificate.Status.ISSUED, history_type="~", emailed_at__isnull=True
        ).values_list("id", flat=True)
    )
    assert len(issued_rows) == LEARNERS and set(issued_rows.values()) == {1}, issued_rows.most_common(3)
    objects = s3_storage.keys()
    assert sorted(row["pdf"] for row in certificates) == objects and len(objects) == LEARNERS
    # Each learner got one email.
    mail = "".join(path.read_text() for path in mail_dir.glob("*.log"))
    for enrolment in enrolments:
        assert mail.count(f"To: {enrolment.learner.email}") == 1, enrolment.learner.email
    # Both workers took part; no process wrote a file of its own.
    succeeded = {
        name: len(re.findall(r"certificate_issue_task\[[0-9a-f-]+\] succeeded", log)) for name, log in logs.items()
    }
    print(f"FIGURE two-machines: issue tasks run per worker: {succeeded}")
    assert all(count > 0 for count in succeeded.values()), succeeded
    assert sum(succeeded.values()) >= LEARNERS
    assert [p for folder in media.values() if folder.exists() for p in folder.rglob("*") if p.is_file()] == []
    redis_flushdb(settings.CELERY_BROKER_URL)
    stage("whole test", started)
