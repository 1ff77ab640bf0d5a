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


@pytest.mark.django_db(transaction=True)
def test_a_switched_broker_is_used_and_the_shared_one_works_again_afterwards(settings):
    """Tasks go to the throwaway broker inside ``celery_broker_switched`` and to the configured
    one again after it (a closed pool left behind would refuse them: tasks would be lost)."""
    import redis

    from academy.celery import app

    testing.require_worker_services()
    settings.CELERY_TASK_ALWAYS_EAGER = False  # sent to a broker, as in production
    shared = settings.CELERY_BROKER_URL
    testing.redis_flushdb(shared)
    client = redis.Redis.from_url(shared)
    app.send_task("academy.tests.nothing", queue="switch-check")  # the shared broker's pool is in use
    try:
        assert client.llen("switch-check") == 1
        with testing.private_redis_server() as private, testing.celery_broker_switched(settings, private):
            app.send_task("academy.tests.nothing", queue="switch-check")
            assert redis.Redis.from_url(private).llen("switch-check") == 1
            assert client.llen("switch-check") == 1
        app.send_task("academy.tests.nothing", queue="switch-check")
        assert client.llen("switch-check") == 2
    finally:
        client.delete("switch-check")
        client.close()
