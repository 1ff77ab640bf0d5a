"""Fixtures of the certificates tests: a signing key pair made once per session, completed
enrolments, issued certificates, and a real Celery worker for tests marked ``worker``."""

import pytest
from django.test import Client

from certificates.keys import development_keys_create
from certificates.models import Certificate
from programmes.services import achievements_record
from tests.support.workers import celery_worker_process, require_worker_services, signing_keys_use, worker_env_for_tests

PKCS12_PASSPHRASE = "correct horse"


@pytest.fixture(scope="session")
def signing_key_files(tmp_path_factory):
    """A development CA and signing certificate in a temporary folder (never keys/)."""
    return development_keys_create(tmp_path_factory.mktemp("signing-keys"), pkcs12_passphrase=PKCS12_PASSPHRASE)


@pytest.fixture(autouse=True)
def _tasks_in_process(request, settings):
    """Tasks run in-process, except in tests that start a real worker. (With a broker
    configured, Celery reads CELERY_TASK_ALWAYS_EAGER from Django's settings before
    ``app.conf``, so it is set there.)"""
    settings.CELERY_TASK_ALWAYS_EAGER = not request.node.get_closest_marker("worker")


@pytest.fixture(autouse=True)
def _signing_settings(settings, signing_key_files):
    signing_keys_use(settings, signing_key_files)
    settings.SITE_URL = "https://academy.example.org"


def complete(enrolment, framework, recorded_by):
    """Record every competency of the framework for the enrolment (completes it)."""
    return achievements_record(enrolment=enrolment, competencies=framework["competencies"], recorded_by=recorded_by)


def complete_and_issue(enrolment, framework, recorded_by, capture_on_commit_callbacks):
    """Complete the enrolment and run, in-process after commit, the task issuing its certificate
    (``capture_on_commit_callbacks``: pytest-django's fixture); returns the certificate."""
    with capture_on_commit_callbacks(execute=True):
        complete(enrolment, framework, recorded_by)
    return Certificate.objects.get(enrolment=enrolment)


@pytest.fixture
def completed_certificate(enrolment, framework, facilitator, django_capture_on_commit_callbacks):
    """The learner completes; the certificate is issued in-process (eager task after commit)."""
    return complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)


@pytest.fixture
def client_for():
    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def celery_worker():
    """Start real Celery workers for this test: ``celery_worker(concurrency=1, slow_seconds=None,
    **env)`` is a context manager; ``slow_seconds`` makes each certificate issue task wait that
    long first (the test-only app ``tests.support.slow_worker``).

    Skips without Redis/PostgreSQL locally, fails in CI. The broker's Redis database is emptied
    first (FLUSHDB of that one database only)."""
    from django.conf import settings

    from tests.support.workers import redis_flushdb

    require_worker_services()
    redis_flushdb(settings.CELERY_BROKER_URL)

    def start(concurrency=1, slow_seconds=None, **env):
        return celery_worker_process(
            env=worker_env_for_tests(**env), concurrency=concurrency, slow_seconds=slow_seconds
        )

    yield start
    redis_flushdb(settings.CELERY_BROKER_URL)


@pytest.fixture
def admin_client_for_staff(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def completed_certificate_other(other_learner, framework, facilitator, django_capture_on_commit_callbacks):
    """A second, issued certificate (the other learner's)."""
    enrolment = other_learner.enrolments.get()
    return complete_and_issue(enrolment, framework, facilitator, django_capture_on_commit_callbacks)
