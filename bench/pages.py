"""Time the pages bench/load.sh measures, in-process, with Django's test client.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/academy_bench_pages python bench/pages.py
    REUSE_DB=1 python bench/pages.py [--runs 30] [--profile dashboard|cohort|verify|floor] [--top 30]

Builds the bench database the way bench/load.sh does (dropped and created again, migrated,
``seed_demo --learners $LEARNERS``; ``REUSE_DB=1`` keeps one from an earlier run), with the same
production settings (bench/load_settings.py) and no page cache. It chooses the same pages and
people (bench/load_setup.py), then for each page prints the status, the number of SQL queries and
the median, best and worst time of ``--runs`` requests. ``--profile PAGE`` runs that page under
cProfile and prints the functions that take the most time. A benchmark, not a test: it asserts
nothing; the targets are load.sh's.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/academy_bench")
WORK = Path(tempfile.mkdtemp(prefix="academy-pages."))
# The environment bench/load.sh gives gunicorn: production settings over plain HTTP on 127.0.0.1.
ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "load_settings",
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64)[:60],
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": "",
    "CELERY_BROKER_URL": "",
    "CACHE_URL": os.environ.get("BENCH_CACHE_URL", ""),
    "EMAIL_URL": "dummymail://",
    "MEDIA_ROOT": str(WORK / "media"),
    "LOG_LEVEL": "WARNING",
    "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH", "")])),
}
PAGES = {"floor": "/healthz/", "dashboard": "LEARNER_PATH", "cohort": "COHORT_PATH", "verify": "VERIFY_PATH"}
SESSIONS = {"dashboard": "LEARNER_SESSION", "cohort": "COORDINATOR_SESSION"}


def run(*args: str, timeout: int) -> None:
    subprocess.run([sys.executable, *args], cwd=ROOT, env={**os.environ}, check=True, timeout=timeout)


def build(learners: int) -> None:
    """bench/load.sh's seeding: a signing key, the database dropped and created, migrated, seeded."""
    run("manage.py", "create_signing_key", "--dir", str(WORK / "keys"), timeout=60)
    os.environ["CERTIFICATE_SIGNING_KEY"] = str(WORK / "keys" / "signing-key.pem")
    os.environ["CERTIFICATE_SIGNING_CERT"] = str(WORK / "keys" / "signing-cert.pem")
    os.environ["CERTIFICATE_SIGNING_CHAIN"] = str(WORK / "keys" / "ca-cert.pem")
    from benchdb import recreate_database

    recreate_database(DATABASE_URL)
    run("manage.py", "migrate", "--noinput", "-v", "0", timeout=600)
    started = time.perf_counter()
    print(f"Seeding {learners} learners (a few minutes)...", file=sys.stderr)
    run("manage.py", "seed_demo", "--learners", str(learners), "-v", "0", timeout=1800)
    print(f"  seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def client_for(session_key: str | None, csrf: str):
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.CSRF_COOKIE_NAME] = csrf
    if session_key:
        client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client


def measure(client, path: str, runs: int) -> tuple[int, list[tuple[float, str]], list[float]]:
    from django.db import connection

    for _ in range(3):  # warm: templates compiled and cached, connection open
        client.get(path)
    queries = []  # counted by a wrapper: the request's start empties connection.queries

    def count(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - started) * 1000, sql))

    with connection.execute_wrapper(count):
        status = client.get(path).status_code
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return status, queries, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--profile", choices=sorted(PAGES), action="append", default=[])
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--queries", action="store_true", help="print each page's queries and their times")
    args = parser.parse_args()
    os.environ.update(ENVIRONMENT)
    if os.environ.get("REUSE_DB") != "1":
        build(int(os.environ.get("LEARNERS", "5000")))
    run("manage.py", "collectstatic", "--noinput", "-v", "0", timeout=300)  # the manifest, as load.sh

    from load_setup import choose

    pages, sessions, described = choose(vacuum=os.environ.get("REUSE_DB") != "1")
    print(described)
    load = os.getloadavg()
    print(f"Load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.runs} requests per page, in-process")
    print(f"{'page':<10} {'status':>6} {'queries':>8} {'median ms':>10} {'best':>7} {'worst':>7}  path")
    clients = {}
    for name, key in PAGES.items():
        path = pages.get(key, key)
        client = clients[name] = client_for(sessions.get(SESSIONS.get(name, "")), sessions["CSRF_COOKIE"])
        status, queries, times = measure(client, path, args.runs)
        print(
            f"{name:<10} {status:>6} {len(queries):>8} {statistics.median(times):>10.1f} {min(times):>7.1f}"
            f" {max(times):>7.1f}  {path}"
        )
        if args.queries:
            for ms, sql in queries:
                print(f"    {ms:6.2f} ms  {sql[:160]}")
    for name in args.profile:
        path = pages.get(PAGES[name], PAGES[name])
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.runs):
            clients[name].get(path)
        profiler.disable()
        for order in ("tottime", "cumulative"):
            print(f"\n== {name} {path}: top {args.top} by {order} over {args.runs} requests")
            pstats.Stats(profiler).sort_stats(order).print_stats(args.top)


if __name__ == "__main__":
    main()
