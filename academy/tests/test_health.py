"""``/healthz/``: 200 only when the database and, where one is configured, the broker answer."""

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


def test_healthy_with_the_database_and_no_broker(client, broker):
    broker("")
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthy_with_a_broker_that_answers(client, settings):
    if not settings.CELERY_BROKER_URL:
        pytest.skip("no broker configured for this run (scripts/run_tests.py sets one when Redis answers)")
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"


def test_unavailable_when_the_database_does_not_answer(client, broker):
    broker("")
    failing = mock.MagicMock()
    failing.cursor.side_effect = OperationalError("connection refused")
    with mock.patch("academy.views.connection", failing):
        response = client.get("/healthz/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"].startswith("error")


def test_unavailable_when_the_configured_broker_does_not_answer(client, broker):
    broker(f"redis://127.0.0.1:{closed_port()}/0")
    response = client.get("/healthz/")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")


def test_only_get_is_allowed(client):
    assert client.post("/healthz/").status_code == 405
