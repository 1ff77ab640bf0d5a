"""Several gunicorn workers, one set of counts: with ``PROMETHEUS_MULTIPROC_DIR`` each worker keeps
its counters in files there and a scrape, whichever worker answers it, adds all of them up.

A real ``gunicorn academy.wsgi --workers 2`` on the test database; requests are sent until both
workers have answered some (their JSON log lines name the process), then every scrape must show
the total, not one worker's share."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.faults.web_process import free_port, require_postgresql
from tests.support.workers import BASE_DIR, worker_env_for_tests

TOKEN = "a-scrapers-token-of-thirty-two-chars"

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def gunicorn_workers(env: dict[str, str], workers: int):
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "academy.wsgi", "--workers", str(workers)]
    command += ["--bind", f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout", "5", "--error-logfile", "-"]
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env={**os.environ, "DEBUG": "false", **env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(line.rstrip() for line in process.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while sum("Booting worker" in line for line in list(lines)) < workers:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n" + "\n".join(lines[-60:]))
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        yield f"http://127.0.0.1:{port}", lines
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        reader.join(timeout=5)


def get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)  # noqa: S310 - http://127.0.0.1 only
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "django_http_requests_latency_seconds_by_view_method_count"
                and sample.labels.get("view") == "healthz"
            ):
                return sample.value
    return 0.0


def test_every_workers_requests_are_counted_in_each_scrape(tmp_path):
    require_postgresql()
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = worker_env_for_tests(
        PROMETHEUS_MULTIPROC_DIR=str(folder), METRICS_TOKEN=TOKEN, LOG_FORMAT="json", ALLOWED_HOSTS="127.0.0.1"
    )
    with gunicorn_workers(env, workers=2) as (base, lines):
        sent = 0
        with ThreadPoolExecutor(max_workers=6) as pool:
            for _ in range(10):
                statuses = list(pool.map(lambda _n: get(base + "/healthz/")[0], range(12)))
                sent += len(statuses)
                assert set(statuses) <= {200, 503}, statuses
                served_by = {
                    entry["process"]
                    for entry in (json.loads(line) for line in list(lines) if line.startswith("{"))
                    if entry["logger"] == "academy.requests" and entry["message"].startswith("GET healthz ")
                }
                if len(served_by) >= 2:
                    break
        assert len(served_by) >= 2, "only one gunicorn worker answered:\n" + "\n".join(lines[-40:])
        for _ in range(6):  # whichever worker answers the scrape
            status, text = get(base + "/metrics", TOKEN)
            assert status == 200, text[:500]
            assert healthz_count(text) == sent
            assert "academy_invitations_unsent" in text
        assert get(base + "/metrics", "not-the-token")[0] == 404
    assert list(folder.iterdir()), "the workers kept no metrics files"
