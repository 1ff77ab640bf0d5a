"""Time the facilitator's progress grid: 60 learners × 40 competencies on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/academy_bench_grid python bench/grid.py [--runs 15]

Uses its own database (the name must contain "bench"; it is dropped and created again), builds a
cohort of 60 learners and a programme requiring 40 competencies (about a third already ticked),
signs a facilitator in, and prints the median (and best/worst) time Django's test Client takes to
render ``/cohorts/<id>/progress/``, with the number of SQL queries. Target: median under 150 ms.
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
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/academy_bench_grid")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")
os.environ["DEBUG"] = "false"  # no query logging: time what production would do
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

LEARNERS, COMPETENCIES, TARGET_MS = 60, 40, 150


def build():
    import datetime

    from academy.models import User
    from partners.models import PartnerOrganisation
    from programmes.models import Achievement, Cohort, Competency, CompetencyDomain, Enrolment, Programme

    partner = PartnerOrganisation.objects.create(name="Bench Community Voices", slug="bench-voices")
    programme = Programme.objects.create(title="Bench programme", slug="bench", research_project="Bench", status="open")
    facilitator = User.objects.create_user(email="facilitator@bench.example", full_name="Fay Facilitator")
    cohort = Cohort.objects.create(
        programme=programme,
        partner=partner,
        name="Bench cohort",
        starts_on=datetime.date(2026, 1, 5),
        ends_on=datetime.date(2026, 3, 30),
        venue="Community Centre",
        capacity=LEARNERS,
    )
    cohort.facilitators.add(facilitator)
    domains = [CompetencyDomain.objects.create(name=f"Core {i}", is_core=True, order=i) for i in range(4)] + [
        CompetencyDomain.objects.create(name=f"Course {i}", programme=programme, order=10 + i) for i in range(2)
    ]
    competencies = Competency.objects.bulk_create(
        [
            Competency(domain=domains[i % len(domains)], statement=f"Can do research task number {i}", order=i)
            for i in range(COMPETENCIES)
        ]
    )
    learners = User.objects.bulk_create(
        [
            User(email=f"learner{i}@bench.example", full_name=f"Learner Zoë {i:02d}", password="!")
            for i in range(LEARNERS)
        ]
    )
    enrolments = Enrolment.objects.bulk_create(
        [Enrolment(learner=u, cohort=cohort, programme=programme, status="active") for u in learners]
    )
    Achievement.objects.bulk_create(
        [
            Achievement(enrolment=e, competency=c, achieved_on=datetime.date(2026, 2, 1), recorded_by=facilitator)
            for i, e in enumerate(enrolments)
            for j, c in enumerate(competencies)
            if (i + j) % 3 == 0
        ]
    )
    return cohort, facilitator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    from benchdb import recreate_database

    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    call_command("migrate", verbosity=0)
    cohort, facilitator = build()
    client = Client()
    client.force_login(facilitator)
    url = reverse("programmes:cohort_progress", args=[cohort.pk])
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *a: queries.append(sql) or execute(sql, *a)):
        first = client.get(url)
    assert first.status_code == 200, first.status_code
    boxes = first.content.decode().count('type="checkbox"')
    timings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    median = statistics.median(timings)
    print(f"grid {LEARNERS} learners x {COMPETENCIES} competencies ({boxes} boxes) on {connection.vendor}")
    print(f"  SQL queries per render: {len(queries)}")
    print(
        f"  render time over {args.runs} runs: median {median:.1f} ms, best {min(timings):.1f} ms, worst {max(timings):.1f} ms"
    )
    print(f"  target: median under {TARGET_MS} ms -> {'met' if median < TARGET_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
