"""``/healthz/`` of a real web process with parts switched off: 200 "ok" with everything up, 200
"degraded" with the cache or the broker unreachable (and pages still render), 503 "unavailable"
only when the database cannot be reached. Each prints how long the health check took
(``pytest -s``; docs/reliability.md lists the figures)."""

import pytest

from tests.faults.network import silent_server
from tests.faults.web_process import (
    PASSWORD,
    Browser,
    free_port,
    gunicorn_process,
    redis_stop,
    require_postgresql,
    signed_in_person,
)
from tests.support.workers import private_redis_server, worker_env_for_tests

pytestmark = pytest.mark.django_db(transaction=True)


def figure(name: str, seconds: float) -> None:
    print(f"FIGURE healthz: {name}: {seconds * 1000:.0f} ms")


def health(web):
    """/healthz/ asked twice: the process's first request loads every view (about a second), so
    the second one is the figure."""
    Browser(web.url).get("/healthz/")
    return Browser(web.url).get("/healthz/")


def test_everything_up_is_ok_and_redis_stopped_is_degraded():
    require_postgresql()
    with private_redis_server() as url:
        env = worker_env_for_tests(CACHE_URL=url, CELERY_BROKER_URL=url, REDIS_URL=url)
        with gunicorn_process(env) as web:
            up = health(web)
            assert (up.status, up.json()) == (200, {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"})
            figure("everything up", up.seconds)
            redis_stop(url)  # the cache and the broker at once
            down = Browser(web.url).get("/healthz/")
            assert down.status == 200
            body = down.json()
            assert body["status"] == "degraded" and body["database"] == "ok"
            assert body["cache"].startswith("error") and body["broker"].startswith("error")
            figure("Redis (cache and broker) stopped", down.seconds)
            assert Browser(web.url).get("/").status == 200


def test_broker_unreachable_is_degraded_and_pages_render():
    require_postgresql()
    person = signed_in_person(email="bea@example.org", full_name="Bea Broker", password=PASSWORD)
    with private_redis_server() as cache_url:
        env = worker_env_for_tests(CACHE_URL=cache_url, CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0")
        with gunicorn_process(env) as web:
            answer = health(web)
            assert answer.status == 200
            body = answer.json()
            assert body == {"status": "degraded", "database": "ok", "cache": "ok", "broker": body["broker"]}
            assert body["broker"].startswith("error")
            figure("broker unreachable", answer.seconds)
            browser = Browser(web.url)
            assert browser.sign_in(person.email, PASSWORD).status == 302
            dashboard = browser.get("/")
            assert dashboard.status == 200 and "Hello, Bea" in dashboard.text
            assert Browser(web.url).get("/verify/").status == 200


def test_database_unreachable_is_unavailable():
    require_postgresql()
    closed = free_port()
    env = worker_env_for_tests(DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed}/academy", CACHE_URL="")
    with gunicorn_process(env) as web:
        answer = health(web)
        assert answer.status == 503
        body = answer.json()
        assert body["status"] == "unavailable"
        assert body["database"].startswith("error")
        figure("database unreachable", answer.seconds)


def test_database_hanging_is_unavailable_within_its_connect_timeout():
    """A database that accepts connections and never answers: 503 once the connect timeout (3 s)
    has passed, not after the minutes a TCP connection can wait."""
    require_postgresql()
    with silent_server() as port:
        env = worker_env_for_tests(DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/academy", CACHE_URL="")
        with gunicorn_process(env) as web:
            answer = health(web)
            assert answer.status == 503
            assert answer.json()["status"] == "unavailable"
            figure("database hanging", answer.seconds)


def test_cache_and_broker_hanging_are_degraded_within_the_probe_timeout():
    require_postgresql()
    with silent_server() as port:
        url = f"redis://127.0.0.1:{port}/0"
        with gunicorn_process(worker_env_for_tests(CACHE_URL=url, CELERY_BROKER_URL=url, REDIS_URL=url)) as web:
            answer = health(web)
            assert answer.status == 200
            body = answer.json()
            assert body["status"] == "degraded" and body["database"] == "ok"
            assert body["cache"].startswith("error") and body["broker"].startswith("error")
            figure("cache and broker hanging", answer.seconds)
