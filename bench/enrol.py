"""Benchmark: a coordinator uploads a 2,000-row CSV, previews it and confirms it.

Runs the real views through Django's test client against PostgreSQL, in a throw-away database
(``test_<name of DATABASE_URL's database>``, created, migrated and dropped here). Prints the time
and the number of queries of each step. Invitation emails are not sent: the bulk Celery task's
``delay`` is replaced by a counter, so the figures show the request's own work and that ONE task
is queued after commit.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/academy_bench .venv/bin/python bench/enrol.py [rows]
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")
os.environ.setdefault("CELERY_BROKER_URL", "")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402


def main(rows: int = 2000) -> int:
    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL server: this benchmark measures PostgreSQL.", file=sys.stderr)
        return 2
    setup_test_environment()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        return run(rows)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def run(rows: int) -> int:
    from django.core import mail
    from django.core.files.uploadedfile import SimpleUploadedFile

    from academy import tasks
    from academy.models import User
    from partners.models import PartnerMembership, PartnerOrganisation
    from portal.models import EnrolmentUpload
    from programmes.models import Cohort, Enrolment, Programme

    queued = []
    tasks.learner_invitations_send_task.delay = lambda user_ids, invited_by_id=None: queued.append(len(user_ids))

    organisation = PartnerOrganisation.objects.create(name="Bench Community Trust", slug="bench-trust")
    coordinator = User.objects.create_user("coordinator@bench.example", "pw", full_name="Bench Coordinator")
    PartnerMembership.objects.create(user=coordinator, organisation=organisation)
    programme = Programme.objects.create(
        title="Bench programme", slug="bench", research_project="Bench", status=Programme.Status.OPEN
    )
    programme.partner_organisations.add(organisation)
    cohort = Cohort.objects.create(
        programme=programme,
        partner=organisation,
        name="Bench cohort",
        starts_on="2026-01-05",
        ends_on="2026-03-30",
        capacity=rows + 100,
    )
    # One learner in ten already has an account (their name is kept, no new account made).
    User.objects.bulk_create(
        [User(email=f"learner{i}@bench.example", full_name=f"Existing {i}") for i in range(0, rows, 10)]
    )
    lines = ["Email address;Full name"] + [f"Learner{i}@bench.example;Learnér Number {i}" for i in range(rows)]
    data = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")
    print(f"Rows: {rows}; file: {len(data) / 1024:.0f} KiB (UTF-8 with BOM, semicolons); database: PostgreSQL")

    client = Client()
    client.force_login(coordinator)
    total_time = 0.0
    total_queries = 0

    def step(label, func):
        nonlocal total_time, total_queries
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = func()
            elapsed = time.perf_counter() - started
        total_time += elapsed
        total_queries += len(queries.captured_queries)
        print(f"{label:<28} {elapsed:6.3f} s {len(queries.captured_queries):4d} queries  (HTTP {response.status_code})")
        return response

    upload_url = reverse("partners:enrol_upload", args=[cohort.pk])
    response = step(
        "1. upload and check",
        lambda: client.post(upload_url, {"file": SimpleUploadedFile("learners.csv", data, content_type="text/csv")}),
    )
    if response.status_code != 302:
        print(response.content.decode()[:3000], file=sys.stderr)
        return 1
    upload = EnrolmentUpload.objects.get()
    preview_url = reverse("partners:enrol_preview", args=[cohort.pk, upload.pk])
    step("2. preview page", lambda: client.get(preview_url))
    confirm_url = reverse("partners:enrol_confirm", args=[cohort.pk, upload.pk])
    step("3. confirm (enrol all)", lambda: client.post(confirm_url))
    print(f"{'total':<28} {total_time:6.3f} s {total_queries:4d} queries")

    enrolled = Enrolment.objects.filter(cohort=cohort).count()
    accounts = User.objects.filter(email__endswith="@bench.example").count() - 1
    print(
        f"Enrolled: {enrolled}; learner accounts: {accounts}; invitation tasks queued: {len(queued)} "
        f"(for {sum(queued)} learners); emails sent during the requests: {len(mail.outbox)}"
    )
    ok = enrolled == rows and len(queued) == 1 and not mail.outbox and total_time < 5
    print("OK: under 5 s, one task queued, nothing sent in the request." if ok else "NOT OK")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
