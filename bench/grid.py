"""Time the facilitator's progress grid: 60 learners × 40 competencies on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/academy_bench_grid python bench/grid.py [--runs 15]

Uses its own database (the name must contain "bench"; it is dropped and created again), builds a
cohort of 60 learners and a programme requiring 40 competencies (about a third already ticked),
and a small cohort (6 × 4) beside it, signs a facilitator in and prints, through Django's test
Client, the median (best/worst) time and the number of SQL queries of:

* rendering the grid, one domain of it, and one learner's checklist;
* saving: a whole column ticked (60 boxes, 40 of them new), half of every row ticked (800 new boxes), one box
  unticked (the confirmation page, then the confirmed save);
* the same render and save at 6 × 4, to show that the queries do not grow with the cells.

Targets: render median under 150 ms, the 800-box save under 1,500 ms. Each save is undone
(outside the timing) before the next run.
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

LEARNERS, COMPETENCIES = 60, 40
TARGET_RENDER_MS, TARGET_SAVE_MS = 150, 1500


def build(tag: str, n_learners: int, n_competencies: int, facilitator):
    """A cohort of ``n_learners`` in a programme of its own requiring ``n_competencies`` (in six
    course-specific domains, so the two cohorts' grids do not share any), a third ticked."""
    import datetime

    from academy.models import User
    from partners.models import PartnerOrganisation
    from programmes.models import Achievement, Cohort, Competency, CompetencyDomain, Enrolment, Programme

    partner = PartnerOrganisation.objects.create(name=f"Bench Community Voices {tag}", slug=f"bench-voices-{tag}")
    programme = Programme.objects.create(
        title=f"Bench programme {tag}", slug=f"bench-{tag}", research_project="Bench", status="open"
    )
    cohort = Cohort.objects.create(
        programme=programme,
        partner=partner,
        name=f"Bench cohort {tag}",
        starts_on=datetime.date(2026, 1, 5),
        ends_on=datetime.date(2026, 3, 30),
        venue="Community Centre",
        capacity=n_learners,
    )
    cohort.facilitators.add(facilitator)
    domains = [
        CompetencyDomain.objects.create(name=f"Domain {i}", programme=programme, order=i)
        for i in range(min(6, n_competencies))
    ]
    competencies = Competency.objects.bulk_create(
        [
            Competency(domain=domains[i % len(domains)], statement=f"Can do research task number {i}", order=i)
            for i in range(n_competencies)
        ]
    )
    competencies.sort(key=lambda c: (c.domain.order, c.order))
    learners = User.objects.bulk_create(
        [
            User(email=f"learner{i}-{tag}@bench.example", full_name=f"Learner Zoë {i:02d} {tag}", password="!")
            for i in range(n_learners)
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
    return cohort, enrolments, competencies, domains


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

    from academy.models import User
    from programmes.models import Achievement

    call_command("migrate", verbosity=0)
    facilitator = User.objects.create_user(email="facilitator@bench.example", full_name="Fay Facilitator")
    client = Client()
    client.force_login(facilitator)

    def state(enrolments):
        achieved = {}
        for e, c in Achievement.objects.filter(enrolment__in=enrolments).values_list("enrolment_id", "competency_id"):
            achieved.setdefault(e, []).append(c)
        return achieved

    def form(enrolments, achieved, ticked):
        data = {"evidence": "Bench session", "tick": [f"{e}-{c}" for e, c in sorted(ticked)]}
        for e in enrolments:
            data[f"before-{e.pk}"] = ",".join(map(str, achieved.get(e.pk, [])))
        return data

    def measure(label, request, *, expect, undo=None, runs=args.runs):
        queries = []
        with connection.execute_wrapper(lambda execute, sql, *a: queries.append(sql) or execute(sql, *a)):
            response = request()
        assert response.status_code == expect, (label, response.status_code)
        if undo:
            undo()
        timings = []
        for _ in range(runs):
            start = time.perf_counter()
            response = request()
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == expect, (label, response.status_code)
            if undo:
                undo()
        median = statistics.median(timings)
        print(
            f"  {label:<52} {len(queries):>4} queries   median {median:7.1f} ms"
            f"  (best {min(timings):.1f}, worst {max(timings):.1f})"
        )
        return median, len(queries)

    def bench_cohort(tag: str, n_learners: int, n_competencies: int):
        cohort, enrolments, competencies, domains = build(tag, n_learners, n_competencies, facilitator)
        url = reverse("programmes:cohort_progress", args=[cohort.pk])
        checklist = reverse("programmes:learner_checklist", args=[cohort.pk, enrolments[0].pk])
        page = client.get(url).content.decode()
        boxes = page.count('type="checkbox"')
        print(
            f"grid {n_learners} learners x {n_competencies} competencies ({boxes} boxes, {len(page) // 1024} KiB) "
            f"on {connection.vendor}, {args.runs} runs each"
        )
        achieved = state(enrolments)
        ticked = {(e, c) for e, cs in achieved.items() for c in cs}
        render = measure("render the grid", lambda: client.get(url), expect=200)
        measure("render one domain (?domain=)", lambda: client.get(url, {"domain": domains[0].pk}), expect=200)
        measure("render one learner's checklist", lambda: client.get(checklist), expect=200)

        def undo_new(before=frozenset(ticked)):
            extra = [
                pk
                for pk, e, c in Achievement.objects.filter(enrolment__in=enrolments).values_list(
                    "pk", "enrolment_id", "competency_id"
                )
                if (e, c) not in before
            ]
            Achievement.objects.filter(pk__in=extra).delete()
            Achievement.history.filter(id__in=extra).delete()

        column = ticked | {(e.pk, competencies[1].pk) for e in enrolments}
        added = len(column) - len(ticked)
        measure(
            f"save: a whole column ticked (+{added} boxes)",
            lambda: client.post(url, form(enrolments, achieved, column)),
            expect=302,
            undo=undo_new,
        )
        half = ticked | {(e.pk, c.pk) for e in enrolments for c in competencies[: n_competencies // 2]}
        added = len(half) - len(ticked)
        save = measure(
            f"save: half of every row ticked (+{added} boxes)",
            lambda: client.post(url, form(enrolments, achieved, half)),
            expect=302,
            undo=undo_new,
            runs=max(3, args.runs // 3),
        )
        one = sorted(ticked)[0]
        measure(
            "untick one box: the confirmation page",
            lambda: client.post(url, form(enrolments, achieved, ticked - {one})),
            expect=200,
        )
        return render, save

    results = {"big": bench_cohort("big", LEARNERS, COMPETENCIES), "small": bench_cohort("small", 6, 4)}
    (render_ms, render_q), (save_ms, save_q) = results["big"]
    (_r, small_render_q), (_s, small_save_q) = results["small"]
    print(
        f"render at {LEARNERS}x{COMPETENCIES}: target median under {TARGET_RENDER_MS} ms -> "
        f"{'met' if render_ms < TARGET_RENDER_MS else 'NOT met'}"
    )
    print(f"big save: target median under {TARGET_SAVE_MS} ms -> {'met' if save_ms < TARGET_SAVE_MS else 'NOT met'}")
    print(
        f"queries do not grow with the cells: render {small_render_q} (6x4) vs {render_q} ({LEARNERS}x{COMPETENCIES}), "
        f"save {small_save_q} vs {save_q} -> {'yes' if (render_q, save_q) == (small_render_q, small_save_q) else 'NO'}"
    )


if __name__ == "__main__":
    main()
