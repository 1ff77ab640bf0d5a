"""academy.testing: the real-worker tests skip locally without services and fail in CI."""

import pytest

from academy import testing


def test_missing_redis_fails_in_ci(monkeypatch, settings, db):
    settings.CELERY_BROKER_URL = ""
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        testing.require_worker_services()


def test_missing_redis_skips_locally(monkeypatch, settings, db):
    settings.CELERY_BROKER_URL = ""
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Redis"):
        testing.require_worker_services()


def test_worker_env_points_at_the_test_database(db, settings):
    from django.db import connection

    env = testing.worker_env_for_tests(EXTRA="1")
    assert env["DATABASE_URL"].endswith("/" + connection.settings_dict["NAME"]) or connection.vendor != "postgresql"
    assert env["MEDIA_ROOT"] == str(settings.MEDIA_ROOT)
    assert env["CERTIFICATE_SIGNING_KEY"] == settings.CERTIFICATE_SIGNING_KEY
    assert env["EXTRA"] == "1"
