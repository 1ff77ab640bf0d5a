"""Time the staff and partner reports, their downloads and the funder PDF on a large Academy.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/academy_h5_bench .venv/bin/python bench/reports.py [--runs 3]

Uses its own database (the name must contain "bench"; it is dropped and created again) and seeds,
in bulk: 100,000 learners enrolled across 300 cohorts of 10 programmes run by 20 partner
organisations, over the last two years (10 % invited, 45 % taking part, 40 % completed, 5 %
withdrawn), about 300,000 achievements, a certificate for every completed enrolment (1 % revoked),
and, when the counter and the monitoring exist, a year of weekly verification counts and
equality-monitoring answers for half the learners. Then it signs staff and a coordinator in and
prints, for each report page and download, the median time over ``--runs`` requests through
Django's test client and the number of SQL queries. Targets: each report under 1 s; the funder
PDF under 5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/academy_h5_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")
os.environ["DEBUG"] = "false"  # no query logging: time what production would do
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("CELERY_BROKER_URL", "")

LEARNERS, COHORTS, PROGRAMMES, PARTNERS = 100_000, 300, 10, 20
REPORT_TARGET_S, PDF_TARGET_S = 1.0, 5.0
BATCH = 5_000


def seed() -> dict:
    """Everything in bulk: bulk_create for the rows Django must shape, SQL for the large derived
    ones (dates spread over two years, achievements, certificates)."""
    import datetime

    from django.db import connection

    from academy.models import User
    from partners.models import PartnerMembership, PartnerOrganisation
    from programmes.models import Cohort, Competency, CompetencyDomain, Enrolment, Programme

    started = time.perf_counter()
    partners = PartnerOrganisation.objects.bulk_create(
        [PartnerOrganisation(name=f"Bench partner {i:02d}", slug=f"bench-partner-{i:02d}") for i in range(PARTNERS)]
    )
    programmes = Programme.objects.bulk_create(
        [
            Programme(
                title=f"Bench programme {i}", slug=f"bench-programme-{i}", research_project="Bench", status="open"
            )
            for i in range(PROGRAMMES)
        ]
    )
    core = CompetencyDomain.objects.bulk_create(
        [CompetencyDomain(name=f"Core domain {i}", is_core=True, order=i) for i in range(6)]
    )
    course = CompetencyDomain.objects.bulk_create(
        [
            CompetencyDomain(name=f"Course domain {p.pk}-{i}", programme=p, order=10 + i)
            for p in programmes
            for i in range(2)
        ]
    )
    Competency.objects.bulk_create(
        [Competency(domain=d, statement=f"Can do task {i} of {d.name}", order=i) for d in core for i in range(4)]
        + [Competency(domain=d, statement=f"Can do task {i} of {d.name}", order=i) for d in course for i in range(3)]
    )
    today = datetime.date.today()
    cohorts = Cohort.objects.bulk_create(
        [
            Cohort(
                programme=programmes[i % PROGRAMMES],
                partner=partners[i % PARTNERS],
                name=f"Bench cohort {i:03d}",
                starts_on=today - datetime.timedelta(days=730 - 2 * i),
                ends_on=today - datetime.timedelta(days=640 - 2 * i),
                capacity=400,
            )
            for i in range(COHORTS)
        ]
    )
    staff = User.objects.create_user(email="staff@bench.example", full_name="Sam Staff", is_staff=True)
    coordinator = User.objects.create_user(email="coordinator@bench.example", full_name="Cora Coordinator")
    PartnerMembership.objects.create(user=coordinator, organisation=partners[0], role="coordinator")
    statuses = ["invited"] * 2 + ["active"] * 9 + ["completed"] * 8 + ["withdrawn"]
    for first in range(0, LEARNERS, BATCH):
        learners = User.objects.bulk_create(
            [
                User(email=f"learner{i}@bench.example", full_name=f"Learner {i}", password="!")
                for i in range(first, min(first + BATCH, LEARNERS))
            ],
            batch_size=BATCH,
        )
        Enrolment.objects.bulk_create(
            [
                Enrolment(
                    learner=learner,
                    cohort=cohorts[(first + n) % COHORTS],
                    programme_id=cohorts[(first + n) % COHORTS].programme_id,
                    status=statuses[(first + n) // COHORTS % len(statuses)],  # every status in every cohort
                    completed_at=datetime.datetime.now(datetime.UTC)
                    if statuses[(first + n) // COHORTS % len(statuses)] == "completed"
                    else None,
                )
                for n, learner in enumerate(learners)
            ],
            batch_size=BATCH,
        )
    with connection.cursor() as cursor:
        # Enrolled over the last two years; completed 30 to 120 days later.
        cursor.execute(
            "UPDATE programmes_enrolment SET enrolled_at = now() - (id % 730) * interval '1 day' - interval '1 hour'"
        )
        cursor.execute(
            "UPDATE programmes_enrolment SET completed_at = enrolled_at + (30 + id % 90) * interval '1 day' "
            "WHERE status = 'completed'"
        )
        # Up to 7 achievements for those taking part or completed, a week apart from enrolment.
        cursor.execute(
            """
            INSERT INTO programmes_achievement (enrolment_id, competency_id, achieved_on, recorded_at, evidence)
            SELECT e.id, c.id, (e.enrolled_at + c.rn * interval '7 days')::date, now(), ''
            FROM programmes_enrolment e
            JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM programmes_competency) c
              ON c.rn <= (e.id % 8)
            WHERE e.status IN ('active', 'completed')
            """
        )
        # A certificate for every completed enrolment, issued a day after completion; 1 % revoked.
        cursor.execute(
            """
            INSERT INTO certificates_certificate (
                enrolment_id, verification_code, status, learner_name, programme_title, cohort_name,
                partner_name, competencies, pdf, sha256, version, attempts, failure_reason, created_at,
                requested_at, issued_at, revoked_at, revocation_reason, claim_token, credential_sha256
            )
            SELECT e.id, 'BENCH-' || e.id, CASE WHEN e.id % 100 = 0 THEN 'revoked' ELSE 'issued' END,
                   '', '', '', '', '[]', '', md5(e.id::text) || md5(e.id::text), 1, 1, '', e.completed_at,
                   e.completed_at, e.completed_at + interval '1 day',
                   CASE WHEN e.id % 100 = 0 THEN e.completed_at + interval '20 days' END, '', '', ''
            FROM programmes_enrolment e WHERE e.status = 'completed'
            """
        )
        cursor.execute("SELECT count(*) FROM programmes_achievement")
        achievements = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM certificates_certificate")
        certificates = cursor.fetchone()[0]
    extras = seed_counters_and_monitoring()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"seeded {LEARNERS:,} learners in {COHORTS} cohorts, {achievements:,} achievements, {certificates:,} "
        f"certificates{extras} in {time.perf_counter() - started:.1f} s"
    )
    return {"staff": staff, "coordinator": coordinator, "partner": partners[0], "programme": programmes[0]}


def seed_counters_and_monitoring() -> str:
    """A year of weekly verification counts, and equality-monitoring answers for half the learners,
    when those models exist (they come with another part of the same change)."""
    import datetime

    from django.apps import apps
    from django.db import connection

    said = ""
    try:
        counter = apps.get_model("certificates", "VerificationLookupCount")
    except LookupError:
        counter = None
    if counter is not None:
        today = datetime.date.today()
        monday = today - datetime.timedelta(days=today.weekday())
        counter.objects.bulk_create(
            [
                counter(week_starting=monday - datetime.timedelta(weeks=week), kind=kind, count=40 + week + n)
                for week in range(104)
                for n, kind in enumerate(counter.Kind.values)
            ]
        )
        said += ", 2 years of weekly verification counts"
    try:
        answers = apps.get_model("reports", "EqualityMonitoringAnswers")
    except LookupError:
        answers = None
    if answers is not None:
        table = answers._meta.db_table
        fields = {f.column: f for f in answers._meta.concrete_fields}
        columns, values = ["learner_id"], ["u.id"]
        for column, f in fields.items():
            if column in ("id", "learner_id"):
                continue
            if f.choices:
                options = [str(value) for value, _label in f.flatchoices]
                array = "ARRAY[" + ",".join("'" + o.replace("'", "''") + "'" for o in options) + "]"
                columns.append(column)
                values.append(f"({array})[1 + (u.id * 7 + {len(columns)}) % {len(options)}]")
            elif column == "postcode_district":
                columns.append(column)
                values.append("'E' || (u.id % 20)")
            elif f.get_internal_type() == "DateTimeField":
                columns.append(column)
                values.append("now()")
            elif not f.null and f.has_default():
                columns.append(column)
                values.append(f"'{f.get_default()}'")
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
                "FROM academy_user u WHERE u.email LIKE 'learner%%' AND u.id % 2 = 0"
            )
        said += ", equality-monitoring answers for half the learners"
    return said


def seeded() -> dict:
    """What ``seed`` returns, read back from a database it seeded before (``--reuse``)."""
    from academy.models import User
    from partners.models import PartnerMembership
    from programmes.models import Programme

    coordinator = User.objects.get(email="coordinator@bench.example")
    return {
        "staff": User.objects.get(email="staff@bench.example"),
        "coordinator": coordinator,
        "partner": PartnerMembership.objects.get(user=coordinator).organisation,
        "programme": Programme.objects.get(slug="bench-programme-0"),
    }


def time_parts(today, runs: int) -> None:
    """The median time of each figure of the staff report (everything, 12 months) and of drawing
    its charts, each on its own, through the public functions the page uses."""
    import datetime

    from reports import sections, selectors

    scope = selectors.ReportScope(start=today - datetime.timedelta(days=364), end=today)
    report = selectors.report(scope)
    parts = {
        "funnel and median": lambda: selectors.funnel(scope),
        "competencies per domain": lambda: selectors.competencies_by_domain(scope),
        "certificates per month": lambda: selectors.certificates_by_month(scope),
        "stalled list (100 and the count)": lambda: selectors.stalled_learners(scope, today=today),
        "stalled list (2,000, downloads)": lambda: selectors.stalled_learners(
            scope, limit=selectors.STALLED_DOWNLOADED, today=today
        ),
        "verification per week": lambda: selectors.verification_by_week(scope),
        "reach tables": lambda: selectors.reach(scope),
        "charts drawn (web)": lambda: [part.svg() for part in sections.report_sections(report)],
        "charts drawn (print)": lambda: [part.svg(for_print=True) for part in sections.report_sections(report)],
    }
    print(f"parts of the staff report (12 months), median of {runs} runs after a first one")
    for name, part in parts.items():
        part()
        timings = []
        for _ in range(runs):
            start = time.perf_counter()
            part()
            timings.append(time.perf_counter() - start)
        print(f"  {name:45} {statistics.median(timings) * 1000:8.0f} ms")


def measure(client, url: str, runs: int) -> tuple[float, int, int]:
    from django.db import connection

    queries: list[str] = []
    with connection.execute_wrapper(lambda execute, sql, *a: queries.append(sql) or execute(sql, *a)):
        first = client.get(url)
    assert first.status_code == 200, (url, first.status_code, first.content[:500])
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200
    return statistics.median(timings), len(queries), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the database as a previous run seeded it (migrations still applied), without seeding again",
    )
    parser.add_argument(
        "--parts", action="store_true", help="also time each figure of the staff report (12 months) on its own"
    )
    args = parser.parse_args()

    if not args.reuse:
        from benchdb import recreate_database

        recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    import datetime

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    world = seeded() if args.reuse else seed()
    today = datetime.date.today()
    year = f"start={(today - datetime.timedelta(days=364)).isoformat()}&end={today.isoformat()}"
    two_years = f"start={(today - datetime.timedelta(days=729)).isoformat()}&end={today.isoformat()}"
    slug, programme = world["partner"].slug, world["programme"].pk
    staff, coordinator = Client(), Client()
    staff.force_login(world["staff"])
    coordinator.force_login(world["coordinator"])
    cases = [
        ("staff report, everything, 12 months", staff, f"/staff/reports/?{year}", REPORT_TARGET_S),
        ("staff report, everything, 2 years", staff, f"/staff/reports/?{two_years}", REPORT_TARGET_S),
        ("staff report, one programme", staff, f"/staff/reports/?{year}&programme={programme}", REPORT_TARGET_S),
        ("staff report CSV (2,000 stalled listed)", staff, f"/staff/reports/report.csv?{year}", REPORT_TARGET_S),
        ("staff report XLSX (2,000 stalled listed)", staff, f"/staff/reports/report.xlsx?{year}", REPORT_TARGET_S),
        (
            "partner report (its 15 cohorts)",
            coordinator,
            f"/partners/organisations/{slug}/report/?{year}",
            REPORT_TARGET_S,
        ),
        ("partner report CSV", coordinator, f"/partners/organisations/{slug}/report.csv?{year}", REPORT_TARGET_S),
        ("partner report XLSX", coordinator, f"/partners/organisations/{slug}/report.xlsx?{year}", REPORT_TARGET_S),
        (
            "funder PDF, one programme, 12 months",
            staff,
            f"/staff/reports/funder/?{year}&programme={programme}",
            PDF_TARGET_S,
        ),
    ]
    if args.parts:
        time_parts(today, args.runs)
    print(f"reports on {connection.vendor}, median of {args.runs} runs after a first (counted) one")
    for name, client, url, target in cases:
        seconds, queries, size = measure(client, url, args.runs)
        verdict = "met" if seconds < target else "NOT met"
        print(
            f"  {name:45} {seconds * 1000:8.0f} ms  {queries:3d} queries  {size / 1024:7.0f} KB  target < {target:.0f} s: {verdict}"
        )


if __name__ == "__main__":
    main()
