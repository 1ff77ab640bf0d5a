"""Helpers for bench/load.sh (run with the bench's environment: DATABASE_URL etc.).

    python bench/load_setup.py recreate-database   # drop and create the bench database
    python bench/load_setup.py targets             # print shell variables: pages and sessions

``targets`` chooses a typical learner (most enrolments), the coordinator of the largest cohort,
and an issued certificate; signs each person in by creating a session directly (no password is
needed); prints ``NAME=value`` lines for the shell on stdout, and on stderr the number of SQL
queries and the time each page takes once, with the most repeated query, so a slow page can be
traced to its selector.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "load_settings")
sys.path.insert(0, str(ROOT / "bench"))


def session_for(user) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def profile(label: str, path: str, session_key: str | None) -> None:
    """Fetch the page once in-process and report its status, query count and time."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    if session_key:
        client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    client.get(path)  # warm
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
    sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    shapes = Counter(q["sql"].split(" WHERE ")[0][:140] for q in queries.captured_queries)
    print(
        f"  {label:<22} {path}  status {response.status_code}, {len(queries)} queries"
        f" ({sql_ms:.1f} ms in SQL), {elapsed:.1f} ms in all",
        file=sys.stderr,
    )
    slowest = sorted(queries.captured_queries, key=lambda q: float(q["time"]), reverse=True)[:3]
    for query in slowest:
        print(f"      slowest {float(query['time']) * 1000:6.1f} ms: {query['sql'][:200]}", file=sys.stderr)
    shape, count = shapes.most_common(1)[0] if shapes else ("", 0)
    if count > 2:
        print(f"      repeated {count}x: {shape}", file=sys.stderr)


def choose(vacuum: bool = True) -> tuple[dict, dict, str]:
    """The pages to measure and the sessions to measure them with: a typical learner (most
    achievements), the coordinator of the largest cohort and an issued certificate. Returns
    (pages, sessions, a sentence describing them)."""
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count, Q

    if vacuum:
        # Fresh planner statistics and visibility maps after the bulk seed, now rather than by an
        # autovacuum worker competing for the CPU while wrk measures.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    from django.urls import reverse

    from certificates.models import Certificate
    from partners.models import PartnerMembership
    from programmes.models import Cohort, Enrolment

    live = ~Q(enrolments__status=Enrolment.Status.WITHDRAWN)
    coordinated = PartnerMembership.objects.filter(role=PartnerMembership.Role.COORDINATOR).values("organisation_id")
    cohort = (
        Cohort.objects.filter(partner_id__in=coordinated)
        .annotate(size=Count("enrolments", filter=live))
        .order_by("-size", "pk")
        .first()
    )
    if cohort is None:
        raise SystemExit("The bench database has no cohort of an organisation with a coordinator: did seed_demo run?")
    membership = (
        PartnerMembership.objects.filter(organisation_id=cohort.partner_id, role=PartnerMembership.Role.COORDINATOR)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise SystemExit(f"No coordinator for {cohort.partner}: seed_demo should create one per partner.")
    learner_enrolment = (
        Enrolment.objects.exclude(status=Enrolment.Status.WITHDRAWN)
        .annotate(done=Count("achievements"))
        .order_by("-done", "pk")
        .select_related("learner")
        .first()
    )
    certificate = Certificate.objects.filter(status=Certificate.Status.ISSUED).order_by("pk").first()
    if certificate is None:
        raise SystemExit("The bench database has no issued certificate: seed_demo should issue some.")

    learner = learner_enrolment.learner
    pages = {
        "LEARNER_PATH": reverse("home"),
        "COHORT_PATH": reverse("partners:cohort_detail", kwargs={"cohort_id": cohort.pk}),
        "VERIFY_PATH": reverse("certificates:verify", kwargs={"code": certificate.verification_code}),
    }
    from django.middleware.csrf import _get_new_csrf_string

    # Like a returning browser, wrk sends the CSRF cookie it was given along with the session's.
    sessions = {
        "LEARNER_SESSION": session_for(learner),
        "COORDINATOR_SESSION": session_for(membership.user),
        "CSRF_COOKIE": _get_new_csrf_string(),
    }
    enrolments = Enrolment.objects.filter(learner=learner).count()
    described = (
        f"Learner {learner.email} ({enrolments} enrolment(s)); coordinator {membership.user.email};"
        f" cohort {cohort.pk} with {cohort.size} learners; certificate {certificate.verification_code}."
    )
    return pages, sessions, described


def targets() -> None:
    pages, sessions, described = choose()
    print(described, file=sys.stderr)
    print("One request each, in-process (query counts):", file=sys.stderr)
    profile("floor (/healthz/)", "/healthz/", None)
    profile("learner dashboard", pages["LEARNER_PATH"], sessions["LEARNER_SESSION"])
    profile("partner cohort page", pages["COHORT_PATH"], sessions["COORDINATOR_SESSION"])
    profile("verification page", pages["VERIFY_PATH"], None)
    for name, value in {**pages, **sessions}.items():
        print(f"{name}='{value}'")


if __name__ == "__main__":
    from benchdb import recreate_database

    commands = {"recreate-database": lambda: recreate_database(os.environ["DATABASE_URL"]), "targets": targets}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        raise SystemExit(f"usage: {sys.argv[0]} {{{'|'.join(commands)}}}")
    commands[sys.argv[1]]()
