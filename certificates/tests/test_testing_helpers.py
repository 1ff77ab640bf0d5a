"""tests.support.workers: the real-worker tests skip locally without services and fail in CI; a
worker started for a test uses that test's database, and the test-only slow app slows only the
certificate task."""

import pytest

from tests.support import workers as testing


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
    """The worker's DATABASE_URL, read the way the settings read it, is this test's database."""
    import environ
    from django.db import connection

    testing.require_worker_services()  # PostgreSQL (a worker cannot share SQLite's test database)
    env = testing.worker_env_for_tests(EXTRA="1")
    parsed = environ.Env.db_url_config(env["DATABASE_URL"])
    current = connection.settings_dict
    assert parsed["NAME"] == current["NAME"] and parsed["NAME"].startswith("test_")
    assert (parsed["HOST"], int(parsed["PORT"])) == (current["HOST"] or "127.0.0.1", int(current["PORT"] or 5432))
    assert parsed["USER"] == current["USER"]
    assert env["MEDIA_ROOT"] == str(settings.MEDIA_ROOT)
    assert env["CERTIFICATE_SIGNING_KEY"] == settings.CERTIFICATE_SIGNING_KEY
    assert env["EXTRA"] == "1"
    assert not any(name.startswith("ACADEMY_TEST") for name in env)  # production code reads no test hook


def test_the_slow_test_app_slows_the_certificate_task_only(monkeypatch):
    from tests.support import slow_worker

    slept = []
    monkeypatch.setattr(slow_worker, "DELAY_SECONDS", 2.5)
    monkeypatch.setattr(slow_worker, "sleep", slept.append)
    issue = slow_worker.app.tasks[slow_worker.SLOWED_TASK]
    sweep = slow_worker.app.tasks["certificates.tasks.certificates_sweep_task"]
    slow_worker.certificate_issue_slowed(sender=sweep)
    assert slept == []
    slow_worker.certificate_issue_slowed(sender=issue)
    assert slept == [2.5]


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
