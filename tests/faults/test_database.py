"""PostgreSQL connections terminated under a real web process (as a database restart or a
failover does): the next request reconnects instead of failing, because kept connections are
checked before reuse (``CONN_HEALTH_CHECKS``). Without the check, the request after the
termination answers 500.

One gunicorn process keeps its connection between requests (``CONN_MAX_AGE=60``, as in
production); the test ends that process's database sessions with ``pg_terminate_backend``, picked
by their ``application_name``."""

import pytest
from django.db import connection

from tests.faults.web_process import PASSWORD, Browser, gunicorn_process, require_postgresql, signed_in_person
from tests.support.workers import database_url_for_current_test_db, worker_env_for_tests

pytestmark = pytest.mark.django_db(transaction=True)

APPLICATION_NAME = "academy-faults-web"


def web_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [APPLICATION_NAME],
        )
        return [row[0] for row in cursor.fetchall()]


def terminate_web_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


def test_terminated_database_connections_cost_no_failed_request():
    require_postgresql()
    person = signed_in_person(email="dana@example.org", full_name="Dana Database", password=PASSWORD)
    env = worker_env_for_tests(
        DATABASE_URL=f"{database_url_for_current_test_db()}?application_name={APPLICATION_NAME}",
        CONN_MAX_AGE="60",
        CACHE_URL="",  # sessions in the database: every request uses the kept connection
    )
    with gunicorn_process(env) as web:
        browser = Browser(web.url)
        assert browser.sign_in(person.email, PASSWORD).status == 302
        assert "Hello, Dana" in browser.get("/").text
        kept = web_backends()
        assert len(kept) == 1, kept  # one connection, kept between requests

        for round_ in range(3):
            assert terminate_web_backends() == 1
            after = browser.get("/")
            assert after.status == 200, web.log()[-3000:]
            assert "Hello, Dana" in after.text
            print(
                f"FIGURE database: request after its connection was terminated ({round_ + 1}): "
                f"{after.seconds * 1000:.0f} ms"
            )
        assert web_backends() != kept  # it reconnected
        assert not [line for line in web.lines if '" 500 ' in line], web.log()[-3000:]
