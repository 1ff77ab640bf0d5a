"""Benchmark: a coordinator uploads a 2,000-row CSV, previews it and confirms it; and uploads each
hostile workbook of ``portal/tests/test_imports_hostile.py`` and is answered in under a second.

Runs the real views through Django's test client against PostgreSQL, in a throw-away database
(``test_<name of DATABASE_URL's database>``, created, migrated and dropped here). Prints the time
and the number of queries of each step. Invitation emails are not sent: the bulk Celery task's
queueing (``apply_async`` of the chunked send task, or ``delay`` of the older single bulk task) is
replaced by a counter, so the figures show the request's own work and that the tasks are queued
after commit, every learner in one of them.

The hostile files (a sheet claiming A1:XFD1048576, a million blank rows, 16,384-cell rows, a
million shared strings, malformed cells, entity expansion, a zip bomb, …) are uploaded first,
each through the same upload view: it prints how long each answer took, the HTTP status and what
the page said (the refusal's code, or how many rows were read). Target: each under 1 s, refused
with the expected message or, when the file is in fact a list of learners, read. Last, a workbook
that only the time box stops (``PARTNER_UPLOAD_READ_SECONDS``, 5 s by default) shows that it does.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/academy_bench .venv/bin/python bench/enrol.py [rows] [--hostile-only]
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


def main(rows: int = 2000, hostile_only: bool = False) -> int:
    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL server: this benchmark measures PostgreSQL.", file=sys.stderr)
        return 2
    setup_test_environment()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        hostile_ok = run_hostile()
        if hostile_only:
            return 0 if hostile_ok else 1
        return run(rows) or (0 if hostile_ok else 1)
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
    if hasattr(tasks, "invitations_send_task"):  # one task per chunk of invitations
        tasks.invitations_send_task.apply_async = lambda args=(), **options: queued.append(len(args[0]))
    else:  # one task for the whole upload
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
    upload = EnrolmentUpload.objects.get(cohort=cohort)
    preview_url = reverse("partners:enrol_preview", args=[cohort.pk, upload.pk])
    step("2. preview page", lambda: client.get(preview_url))
    confirm_url = reverse("partners:enrol_confirm", args=[cohort.pk, upload.pk])
    step("3. confirm (enrol all)", lambda: client.post(confirm_url))
    print(f"{'total':<28} {total_time:6.3f} s {total_queries:4d} queries")

    enrolled = Enrolment.objects.filter(cohort=cohort).count()
    learners = User.objects.filter(email__endswith="@bench.example").exclude(pk=coordinator.pk)
    accounts = learners.count()
    # The accounts made from the file have no password, so they need an invitation; the ones that
    # already existed have one (an empty one here) and are not invited again.
    invitable = sum(1 for user in learners.only("password") if not user.has_usable_password())
    print(
        f"Enrolled: {enrolled}; learner accounts: {accounts}, {invitable} of them without a password; "
        f"invitation tasks queued: {len(queued)} (for {sum(queued)} learners); "
        f"emails sent during the requests: {len(mail.outbox)}"
    )
    ok = enrolled == rows and queued and invitable <= sum(queued) <= rows and not mail.outbox and total_time < 5
    print("OK: under 5 s, every invitation queued, nothing sent in the request." if ok else "NOT OK")
    return 0 if ok else 1


def run_hostile() -> bool:
    """Upload each hostile file through the real view and time the answer."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from academy.models import User
    from partners.models import PartnerMembership, PartnerOrganisation
    from portal import imports
    from portal.imports import UploadRefused, read_learner_file
    from portal.tests.test_imports_hostile import hostile_files, time_box_workbook
    from programmes.models import Cohort, Programme

    organisation = PartnerOrganisation.objects.create(name="Hostile Files Trust", slug="hostile-trust")
    coordinator = User.objects.create_user("coordinator@hostile.example", "pw", full_name="Hostile Coordinator")
    PartnerMembership.objects.create(user=coordinator, organisation=organisation)
    programme = Programme.objects.create(
        title="Hostile programme", slug="hostile", research_project="Bench", status=Programme.Status.OPEN
    )
    programme.partner_organisations.add(organisation)
    cohort = Cohort.objects.create(
        programme=programme,
        partner=organisation,
        name="Hostile cohort",
        starts_on="2026-01-05",
        ends_on="2026-03-30",
        capacity=100,
    )
    client = Client()
    client.force_login(coordinator)
    url = reverse("partners:enrol_upload", args=[cohort.pk])
    client.get(url)  # templates, translations and the like loaded before the first measurement

    print("Hostile files, each uploaded through the upload view (target: each answered in < 1 s):")
    all_ok = True
    for hostile in hostile_files():
        data = hostile.build()
        started = time.perf_counter()
        response = client.post(url, {"file": SimpleUploadedFile(hostile.filename, data)})
        elapsed = time.perf_counter() - started
        try:  # the reader's own answer, for its refusal code (the form keeps only the message)
            read_learner_file(SimpleUploadedFile(hostile.filename, data))
            code, message = None, None
        except UploadRefused as refusal:
            code, message = refusal.code, refusal.message
        if response.status_code == 302:
            outcome, ok = "read, preview made", hostile.refused_with is None
        elif response.status_code == 200 and message and message in response.context["form"].errors.get("file", []):
            outcome, ok = f"refused ({code}), message shown", code == hostile.refused_with
        else:
            outcome, ok = "unexpected answer", False
        ok = ok and elapsed < 1
        all_ok = all_ok and ok
        print(
            f"  {hostile.label:<52} {len(data) / 1024:8.1f} KiB {elapsed:6.3f} s  "
            f"HTTP {response.status_code}  {outcome}{'' if ok else '  NOT OK'}"
        )
    print("OK: every hostile file answered in under 1 s, as expected." if all_ok else "NOT OK")

    # The backstop: a workbook no other limit catches, refused when reading reaches the time box.
    data = time_box_workbook()
    started = time.perf_counter()
    response = client.post(url, {"file": SimpleUploadedFile("learners.xlsx", data)})
    elapsed = time.perf_counter() - started
    shown = "took too long to read" in response.content.decode()
    print(
        f"Time box ({imports.read_seconds():g} s; not a < 1 s target): {len(data) / 1024:.0f} KiB workbook of 4.8 million "
        f"empty cells answered in {elapsed:.3f} s, HTTP {response.status_code}, "
        f"{'“took too long to read” shown' if shown else 'NOT refused as too slow'}"
    )
    return all_ok and shown


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    sys.exit(main(int(arguments[0]) if arguments else 2000, hostile_only="--hostile-only" in sys.argv))
