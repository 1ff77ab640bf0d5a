"""A real web process for the fault tests, and a small browser to talk to it.

``gunicorn_process(env)`` starts ``gunicorn academy.wsgi`` (one sync worker, as in production) in
its own process group on a free port, with ``env`` added to this process's environment (start from
``tests.support.workers.worker_env_for_tests()``, so it serves the test database), waits until it
answers and stops it afterwards. ``Browser`` keeps cookies, never follows redirects, signs in
through allauth's form (CSRF token included) and times every request. ``require_postgresql()``
skips (locally) or fails (CI) without PostgreSQL; ``redis_stop(url)`` stops a private Redis.

Passwords: the server checks passwords with the production hashers, which do not include the
tests' fast MD5 hasher; ``quick_password_hash`` makes a PBKDF2 hash with few iterations, which
the production hasher verifies (and upgrades on the first successful sign-in).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.support.workers import BASE_DIR, in_ci

PASSWORD = "a-long-password-for-the-fault-tests"


def require_postgresql() -> None:
    """Skip (locally) or fail (CI) unless the test database is PostgreSQL: the web process must
    see the test's committed data."""
    import pytest
    from django.db import connection

    if connection.vendor != "postgresql":
        message = "a real web process needs the test database in PostgreSQL (DATABASE_URL)"
        if in_ci():
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)


def redis_stop(url: str) -> None:
    """Stop the private Redis server at ``url`` (it exits; nothing is saved)."""
    import redis

    client = redis.Redis.from_url(url)
    with contextlib.suppress(redis.ConnectionError):  # the server closes the connection as it goes
        client.shutdown(nosave=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.ping()
        except redis.ConnectionError:
            return
        time.sleep(0.05)
    raise AssertionError("redis-server did not stop")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def quick_password_hash(password: str) -> str:
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    return hasher.encode(password, hasher.salt(), iterations=1000)


@dataclass
class WebProcess:
    process: subprocess.Popen
    url: str
    lines: list[str] = field(default_factory=list)

    def log(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


@contextlib.contextmanager
def gunicorn_process(env: dict[str, str], *, ready_timeout: float = 60.0) -> Iterator[WebProcess]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "academy.wsgi",
        "--workers",
        "1",
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
    ]
    full_env = {**os.environ, "DEBUG": "false", **env, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    web = WebProcess(process=process, url=f"http://127.0.0.1:{port}")

    def read():
        for line in process.stdout:
            web.lines.append(line.rstrip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{web.log()[-4000:]}")
            if any("Booting worker" in line for line in list(web.lines)):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{web.log()[-4000:]}")
            time.sleep(0.05)
        yield web
    finally:
        web.stop()
        reader.join(timeout=5)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


@dataclass
class Response:
    status: int
    text: str
    headers: dict[str, str]
    seconds: float

    def json(self):
        import json

        return json.loads(self.text)


class Browser:
    """One visitor: cookies kept between requests, redirects returned (not followed)."""

    def __init__(self, base_url: str, *, forwarded_for: str | None = None):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.forwarded_for = forwarded_for
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects())

    def request(self, path: str, data: dict[str, str] | None = None, timeout: float = 30.0) -> Response:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body)  # noqa: S310 - http://127.0.0.1 only
        if self.forwarded_for:
            request.add_header("X-Forwarded-For", self.forwarded_for)
        if data is not None:
            request.add_header("Referer", self.base_url + path)
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=timeout) as answer:
                status, text, headers = answer.status, answer.read().decode(), dict(answer.headers)
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            status, text, headers = error.code, error.read().decode(errors="replace"), dict(error.headers)
        return Response(status, text, headers, time.monotonic() - started)

    def get(self, path: str, **kwargs) -> Response:
        return self.request(path, **kwargs)

    def post_form(self, path: str, fields: dict[str, str]) -> Response:
        """GET the form at ``path`` for its CSRF token, then POST ``fields`` with it."""
        page = self.get(path)
        assert page.status == 200, (page.status, page.text[:500])
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, "no CSRF token on " + path
        return self.request(path, {"csrfmiddlewaretoken": match.group(1), **fields})

    def sign_in(self, email: str, password: str) -> Response:
        return self.post_form("/accounts/login/", {"login": email, "password": password})


def signed_in_person(*, email: str, full_name: str, password: str):
    """A person who can sign in with a password on the server (verified email address)."""
    from allauth.account.models import EmailAddress

    from academy.models import User

    user = User.objects.create(email=email, full_name=full_name, password=quick_password_hash(password))
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user
