"""Test helpers that start real processes: a Celery worker against Redis and PostgreSQL.

``celery_worker_process(env=...)`` starts ``celery -A academy worker`` (prefork) in its own
process group, waits until it reports ready and stops it (and its pool children) afterwards;
``slow_seconds=`` starts the test-only app ``tests.support.slow_worker`` instead, whose certificate
issue tasks each wait that long first (for tests that kill a worker mid-task).
The worker must use the same database as the test: ``worker_env_for_tests()`` builds the
environment from the running test's settings (test database name, broker, media folder,
signing key). Tests that use it need committed data: ``@pytest.mark.django_db(transaction=True)``.

``require_worker_services()`` skips a test when Redis or PostgreSQL is missing, except in CI
(``CI=true``), where it fails: CI must run these tests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SLOW_WORKER_APP = "tests.support.slow_worker"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def require_worker_services() -> None:
    """Skip (locally) or fail (CI) unless a Redis broker and PostgreSQL are configured and answer."""
    import pytest
    from django.conf import settings
    from django.db import connection

    problems = []
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis"):
        problems.append("no Redis broker configured (REDIS_URL)")
    elif not _answers(broker, 6379):
        problems.append(f"Redis at {broker} does not answer")
    if connection.vendor != "postgresql":
        problems.append("the database is not PostgreSQL (DATABASE_URL)")
    if problems:
        message = "a real Celery worker needs " + "; ".join(problems)
        if in_ci():
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)


def redis_flushdb(url: str) -> None:
    """Empty ONE Redis database (the one in ``url``). Never FLUSHALL: other people share the server."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


@contextlib.contextmanager
def private_redis_server() -> Iterator[str]:
    """A throwaway ``redis-server`` of our own on a free port (nothing kept on disk), for a test
    that must empty a whole Redis server with FLUSHALL without touching anybody else's data.
    Yields its URL; skips (locally) or fails (CI) without the ``redis-server`` program."""
    import pytest
    import redis

    program = shutil.which("redis-server")
    if program is None:
        message = "redis-server is not installed"
        if in_ci():
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"redis-server on port {port} did not start") from None
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def celery_broker_switched(settings, url: str) -> Iterator[None]:
    """Point this process's Celery app at the broker ``url`` for a while: Django's setting (which
    Celery reads) and the app's connection and producer pools looked up afresh, as Celery itself
    does after a fork (it keeps both per app, made from the broker URL of the time). The pools are
    not closed: kombu keeps one per broker URL for the whole process, and a closed one would refuse
    every later task sent to that broker."""
    from academy.celery import app

    def forget_connections():
        app._pool = None
        amqp = app.__dict__.get("amqp")
        if amqp is not None:
            amqp._producer_pool = None

    original = settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = url
    forget_connections()
    try:
        yield
    finally:
        settings.CELERY_BROKER_URL = original
        forget_connections()


def signing_keys_use(settings, keys) -> None:
    """Sign certificates with ``keys`` (``certificates.keys.KeyFiles``, PEM files) in this test, and
    their credentials with an Ed25519 key made once beside them (``credential-key.pem`` in the
    same folder: once per session for the session's key files)."""
    from certificates.keys import credential_key_create

    credential_key = Path(keys.directory) / "credential-key.pem"
    if not credential_key.exists():
        credential_key_create(credential_key)
    settings.CERTIFICATE_CREDENTIAL_KEY = str(credential_key)
    settings.CERTIFICATE_SIGNING_KEY = str(keys.signing_key)
    settings.CERTIFICATE_SIGNING_CERT = str(keys.signing_cert)
    settings.CERTIFICATE_SIGNING_CHAIN = [str(keys.ca_cert)]
    settings.CERTIFICATE_SIGNING_KEY_PASSPHRASE = ""
    settings.CERTIFICATE_SIGNING_PKCS12 = ""
    settings.CERTIFICATE_SIGNING_PASSPHRASE = ""


def database_url_for_current_test_db() -> str:
    """A DATABASE_URL pointing at the database this test process is using (the test database)."""
    from django.db import connection

    s = connection.settings_dict
    user = quote(s.get("USER") or "", safe="")
    password = quote(s.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{s['NAME']}"


def worker_env_for_tests(**extra: str) -> dict[str, str]:
    """The environment for a worker serving the current test: same database, broker, media
    folder, signing key, site URL; email written to files under MEDIA_ROOT/../mail."""
    from django.conf import settings

    media_root = Path(settings.MEDIA_ROOT)
    env = {
        "DATABASE_URL": database_url_for_current_test_db(),
        "REDIS_URL": settings.REDIS_URL or settings.CELERY_BROKER_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CACHE_URL": settings.CACHE_URL or "",
        "MEDIA_ROOT": str(media_root),
        "SITE_URL": settings.SITE_URL,
        # django-environ drops one leading slash of the path: four slashes keep it absolute.
        "EMAIL_URL": f"filemail:///{media_root.parent / 'mail'}",
    }
    for name in (
        "CERTIFICATE_SIGNING_KEY",
        "CERTIFICATE_SIGNING_CERT",
        "CERTIFICATE_SIGNING_PKCS12",
        "CERTIFICATE_SIGNING_PASSPHRASE",
        "CERTIFICATE_CREDENTIAL_KEY",
    ):
        env[name] = str(getattr(settings, name, "") or "")
    env["CERTIFICATE_SIGNING_CHAIN"] = ",".join(str(p) for p in getattr(settings, "CERTIFICATE_SIGNING_CHAIN", []))
    env.update(extra)
    return env


@dataclass
class WorkerProcess:
    """A running Celery worker started by ``celery_worker_process``."""

    process: subprocess.Popen
    name: str
    lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in list(self.lines)):
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def child_pids(self) -> list[int]:
        """The prefork pool's processes (children of the main worker process)."""
        try:
            text = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the worker's whole process group (main process and pool children)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.kill(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.process.wait(timeout=5)
        # Reap any pool child left behind in the group.
        self.kill(signal.SIGKILL)


@contextlib.contextmanager
def celery_worker_process(
    env: dict[str, str] | None = None,
    *,
    concurrency: int = 1,
    queues: str = "celery",
    ready_timeout: float = 60.0,
    loglevel: str = "INFO",
    slow_seconds: float | None = None,
) -> Iterator[WorkerProcess]:
    """Start a real ``celery -A academy worker --pool=prefork`` and stop it on exit.

    ``env`` is added to this process's environment (see ``worker_env_for_tests``).
    ``slow_seconds``: run the test-only app ``tests.support.slow_worker`` instead, each
    certificate issue task waiting that many seconds before it starts.
    """
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    app = "academy"
    env = dict(env or {})
    if slow_seconds is not None:
        app = SLOW_WORKER_APP
        env["SLOW_CERTIFICATE_SECONDS"] = str(slow_seconds)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        app,
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        "-Q",
        queues,
        "-n",
        name,
        f"--loglevel={loglevel}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    full_env = {**os.environ, **env}
    full_env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    worker = WorkerProcess(process=process, name=name)

    def read():
        for line in process.stdout:
            worker.lines.append(line.rstrip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not worker.wait_for_line(" ready.", timeout=ready_timeout):
            raise RuntimeError(f"The Celery worker did not start:\n{worker.log()[-4000:]}")
        yield worker
    finally:
        worker.stop()
        reader.join(timeout=5)
