"""``/healthz/``: each part's state as JSON; 503 only when the database does not answer (the site
cannot serve); the cache (Redis) or the broker not answering is "degraded" with a 200, so a load
balancer keeps the web process in rotation. The same with real processes and parts switched off:
tests/faults/test_healthz.py."""

import socket
from unittest import mock

import pytest
from django.db import OperationalError

from academy.celery import app as celery_app

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broker(settings, monkeypatch):
    """Point the broker (Django's setting and the Celery app that reads it) at ``url``."""

    def use(url: str):
        settings.CELERY_BROKER_URL = url
        monkeypatch.setattr(celery_app.conf, "broker_url", url or None)

    return use


@pytest.fixture
def redis_cache(settings):
    """Give the site a Redis cache alias ("redis", which /healthz/ asks) at ``url``."""

    def use(url: str):
        settings.CACHES = {
            **settings.CACHES,
            "redis": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": url,
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 1.0},
            },
        }

    return use


@pytest.fixture
def no_redis_cache(settings):
    """The embedded set-up: a local-memory cache, sessions in the database."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"


def test_ok_with_the_database_and_nothing_else_configured(client, broker, no_redis_cache):
    broker("")
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "cache": "not configured",
        "broker": "not configured",
    }
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_ok_with_a_cache_and_a_broker_that_answer(client, settings):
    if not settings.CELERY_BROKER_URL or "redis" not in settings.CACHES:
        pytest.skip("no Redis configured for this run (scripts/run_tests.py sets one when Redis answers)")
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"}


def test_unavailable_when_the_database_does_not_answer(client, broker, no_redis_cache):
    broker("")
    failing = mock.MagicMock()
    failing.cursor.side_effect = OperationalError("connection refused")
    with mock.patch("academy.views.connection", failing):
        response = client.get("/healthz/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "error: OperationalError"


def test_degraded_not_unavailable_when_the_broker_does_not_answer(client, broker, no_redis_cache):
    broker(f"redis://127.0.0.1:{closed_port()}/0")
    response = client.get("/healthz/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")


def test_degraded_not_unavailable_when_the_cache_does_not_answer(client, broker, redis_cache):
    broker("")
    redis_cache(f"redis://127.0.0.1:{closed_port()}/0")
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "error: ConnectionError",
        "broker": "not configured",
    }


def test_a_part_that_hangs_is_reported_as_timed_out(client, broker, redis_cache, monkeypatch):
    """Each probe is bounded: a part that does not answer in time is an error, not a wait."""
    import threading

    from academy import views

    broker("")
    redis_cache(f"redis://127.0.0.1:{closed_port()}/0")
    released = threading.Event()
    monkeypatch.setattr(views, "PROBE_TIMEOUT", 0.1)
    monkeypatch.setattr(views, "_cache_answers", lambda: released.wait(5))
    try:
        response = client.get("/healthz/")
    finally:
        released.set()
    assert response.status_code == 200
    assert response.json()["cache"] == "error: timeout"


def test_only_get_is_allowed(client):
    assert client.post("/healthz/").status_code == 405
