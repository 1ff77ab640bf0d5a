"""Redis stopped under a real web process: people stay signed in, pages render, sign-in works and
its limits keep limiting; ``/healthz/`` says degraded with a 200.

One gunicorn process (the production server, one sync worker) serves the test database with its
cache on a private ``redis-server`` of this test (``CACHE_URL``); the test signs in, stops that
Redis (SHUTDOWN) and goes on. Each step prints the time its request took (``pytest -s`` shows
them; docs/reliability.md lists them). Needs PostgreSQL (the server must see the test's data)
and ``redis-server``: skipped locally without them, a failure in CI.
"""

import re
from pathlib import Path

import pytest
import redis

from tests.faults.network import silent_server
from tests.faults.web_process import (
    PASSWORD,
    Browser,
    gunicorn_process,
    redis_stop,
    require_postgresql,
    signed_in_person,
)
from tests.support.workers import private_redis_server, worker_env_for_tests

pytestmark = pytest.mark.django_db(transaction=True)


def figure(name: str, seconds: float) -> None:
    print(f"FIGURE redis-down: {name}: {seconds * 1000:.0f} ms")


def login_code_from_mail(mail_dir: Path, email: str) -> str:
    """The sign-in code in the newest email to ``email`` written by the file email backend."""
    for message in sorted(mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True):
        text = message.read_text()
        if email in text and "sign-in code" in text:
            match = re.search(r"^\s*([A-Z0-9][A-Z0-9-]{4,14})\s*$", text.split("sign-in code", 1)[1], re.MULTILINE)
            if match:
                return match.group(1)
    raise AssertionError(f"no sign-in code mailed to {email} in {mail_dir}")


def test_with_redis_stopped_people_stay_signed_in_and_sign_in_keeps_its_limits(settings):
    require_postgresql()
    rosa = signed_in_person(email="rosa@example.org", full_name="Rosa Resilient", password=PASSWORD)
    sam = signed_in_person(email="sam@example.org", full_name="Sam Later", password=PASSWORD)
    coder = signed_in_person(email="cody@example.org", full_name="Cody Code", password=PASSWORD)
    mail_dir = Path(settings.MEDIA_ROOT).parent / "mail"
    with private_redis_server() as cache_url, gunicorn_process(worker_env_for_tests(CACHE_URL=cache_url)) as web:
        browser = Browser(web.url)
        signed_in = browser.sign_in(rosa.email, PASSWORD)
        assert signed_in.status == 302
        figure("sign-in, Redis up (the password's hash is upgraded too)", signed_in.seconds)
        before = browser.get("/")
        assert before.status == 200 and "Hello, Rosa" in before.text
        figure("dashboard, Redis up", before.seconds)
        # The session is cached in Redis (and written through to the database).
        assert any(b"sessions" in key for key in redis.Redis.from_url(cache_url).scan_iter())

        redis_stop(cache_url)

        first = browser.get("/")
        assert first.status == 200, web.log()[-3000:]
        assert "Hello, Rosa" in first.text
        figure("dashboard, first request after Redis stopped", first.seconds)
        again = browser.get("/")
        assert again.status == 200 and "Hello, Rosa" in again.text
        figure("dashboard, Redis down", again.seconds)

        # Signing in works, and the new session lasts.
        later = Browser(web.url)
        signed_in = later.sign_in(sam.email, PASSWORD)
        assert signed_in.status == 302, signed_in.text[:2000]
        figure("sign-in, Redis down (the password's hash is upgraded too)", signed_in.seconds)
        assert "Hello, Sam" in later.get("/").text

        # Failed sign-ins are still limited (allauth's login_failed: 10 a minute per address),
        # counted in the web process's own memory.
        answers = [Browser(web.url).sign_in(f"nobody{n}@example.org", "wrong-password").text for n in range(11)]
        limited = ["Too many failed login attempts" in text for text in answers]
        assert limited == [False] * 10 + [True]

        # Sign-in codes: three a minute per address, then refused; a code still signs in.
        code_browser = Browser(web.url)
        asked = code_browser.post_form("/accounts/login/code/", {"email": coder.email})
        assert asked.status == 302, asked.text[:2000]
        code = login_code_from_mail(mail_dir, coder.email)
        confirmed = code_browser.post_form("/accounts/login/code/confirm/", {"code": code})
        assert confirmed.status == 302, confirmed.text[:2000]
        assert "Hello, Cody" in code_browser.get("/").text
        more = [Browser(web.url).post_form("/accounts/login/code/", {"email": coder.email}) for _ in range(3)]
        assert [r.status for r in more[:2]] == [302, 302]
        assert more[2].status == 200 and "Too many failed login attempts" in more[2].text

        # The public verification page renders.
        verify = Browser(web.url).get("/verify/")
        assert verify.status == 200
        figure("public verification page, Redis down", verify.seconds)

        # The health check tells a degraded site from one that cannot serve.
        health = Browser(web.url).get("/healthz/")
        assert health.status == 200
        body = health.json()
        assert body["status"] == "degraded"
        assert body["database"] == "ok"
        assert body["cache"].startswith("error")
        figure("/healthz/, Redis down", health.seconds)

        # One warning for the outage, not one per request.
        warnings = [line for line in web.lines if "cannot be reached" in line]
        assert len(warnings) == 1, warnings
        assert not [line for line in web.lines if '" 500 ' in line], web.log()[-3000:]


def test_with_redis_hanging_pages_wait_at_most_one_socket_timeout_now_and_then(settings):
    """Redis accepts connections but never answers (hung, or a network dropping its replies):
    the first request waits for one socket timeout (1 s), then this process serves from its
    fallback without asking Redis again for a few seconds."""
    require_postgresql()
    rosa = signed_in_person(email="rosa@example.org", full_name="Rosa Resilient", password=PASSWORD)
    with (
        silent_server() as port,
        gunicorn_process(worker_env_for_tests(CACHE_URL=f"redis://127.0.0.1:{port}/0")) as web,
    ):
        assert Browser(web.url).get("/accounts/login/").status == 200  # loads the views; no cache used
        browser = Browser(web.url)
        signed_in = browser.sign_in(rosa.email, PASSWORD)
        assert signed_in.status == 302, web.log()[-3000:]
        figure("sign-in, the first use of the hanging Redis (one socket timeout + the hash upgrade)", signed_in.seconds)
        times = []
        for _ in range(5):
            page = browser.get("/")
            assert page.status == 200 and "Hello, Rosa" in page.text
            times.append(page.seconds)
        figure("dashboard, Redis hanging (steady state, slowest of 5)", max(times))
        answers = [Browser(web.url).sign_in(f"nobody{n}@example.org", "wrong-password").text for n in range(11)]
        assert ["Too many failed login attempts" in text for text in answers] == [False] * 10 + [True]
        health = Browser(web.url).get("/healthz/")
        assert health.status == 200 and health.json()["status"] == "degraded"
        assert health.json()["cache"] == "error: TimeoutError"
        figure("/healthz/, Redis hanging", health.seconds)
        assert not [line for line in web.lines if '" 500 ' in line], web.log()[-3000:]
