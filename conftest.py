"""Fixtures shared by every app's tests: one person per role, and a small framework.

Per-app fixtures live beside the app's tests; factories live in ``<app>/tests/factories.py``.
"""

import os

import pytest
from django.db import transaction
from django.test.utils import override_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from academy.tests.factories import UserFactory
from partners.models import PartnerMembership
from partners.tests.factories import PartnerMembershipFactory, PartnerOrganisationFactory
from programmes.tests.factories import (
    CohortFactory,
    CompetencyFactory,
    CoreDomainFactory,
    CourseDomainFactory,
    EnrolmentFactory,
    ProgrammeFactory,
)

# The fast hasher: every factory-made person hashes a password, and the hashers production uses
# are slow on purpose. The live server used by the browser tests is a thread of this process, so
# it checks passwords with this hasher too; worker processes never check passwords.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher():
    with override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
        yield


@pytest.fixture(scope="session", autouse=True)
def _credential_key(tmp_path_factory):
    """An Ed25519 credential key for the whole session (a fresh checkout has none in keys/), so
    the DID document and credentials can be served; tests of a missing key point elsewhere."""
    from certificates.keys import credential_key_create

    path = credential_key_create(tmp_path_factory.mktemp("credential-key") / "credential-key.pem")
    with override_settings(CERTIFICATE_CREDENTIAL_KEY=str(path)):
        yield path


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker):
    """One transaction kept open for a whole module, for data made once and shared by its tests.

    A module-scoped fixture makes its objects inside ``with module_db.unblock():`` (this is
    pytest-django's ``django_db_blocker``). Each test that asks for ``db`` then runs in a savepoint
    inside this transaction, so what one test changes is undone before the next; when the module
    ends the transaction is rolled back, so nothing reaches other modules. The objects are the
    same Python instances in every test: tests read them, and load afresh what they change.
    """
    atomic = transaction.atomic()
    atomic._from_testcase = True  # the role Django's TestCase gives its own outer transaction
    with django_db_blocker.unblock():
        atomic.__enter__()
    try:
        yield django_db_blocker
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded and generated files go to a temporary folder, never the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (moto, server mode) on 127.0.0.1 for the whole session
    (``tests.support.s3``); skips locally and fails with CI=true without moto."""
    from tests.support.s3 import require_s3_server_support, s3_server_running

    require_s3_server_support()
    with s3_server_running() as server:
        yield server


@pytest.fixture
def s3_storage(s3_server, settings):
    """This test's files in a new private bucket of ``s3_server``: ``settings.STORAGES["default"]``
    points at it (as ``STORAGE_BACKEND=s3`` does), ``.env()`` points worker and web processes at it."""
    storage = s3_server.bucket_new()
    settings.STORAGES = storage.storages_setting(settings.STORAGES)
    yield storage
    storage.restore()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached pages never leak from one test to another."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_in_process(request, settings):
    """Tasks run in-process unless a test starts a real worker (markers ``worker``, ``browser``).

    Celery reads ``CELERY_TASK_ALWAYS_EAGER`` from Django's settings, so both are set."""
    from academy.celery import app

    if request.node.get_closest_marker("worker") or request.node.get_closest_marker("browser"):
        yield
        return
    previous = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def staff_user(db):
    return UserFactory(email="staff@example.org", full_name="Sam Staff", staff=True)


@pytest.fixture
def partner(db):
    return PartnerOrganisationFactory(name="Hackney Community Voices", slug="hackney-community-voices")


@pytest.fixture
def other_partner(db):
    return PartnerOrganisationFactory(name="Newham Borough Council", slug="newham-borough-council")


@pytest.fixture
def coordinator(partner):
    membership = PartnerMembershipFactory(
        user__email="coordinator@example.org", user__full_name="Cora Coordinator", organisation=partner
    )
    return membership.user


@pytest.fixture
def viewer(partner):
    membership = PartnerMembershipFactory(
        user__email="viewer@example.org",
        user__full_name="Vic Viewer",
        organisation=partner,
        role=PartnerMembership.Role.VIEWER,
    )
    return membership.user


@pytest.fixture
def other_coordinator(other_partner):
    membership = PartnerMembershipFactory(
        user__email="other.coordinator@example.org", user__full_name="Olu Other", organisation=other_partner
    )
    return membership.user


@pytest.fixture
def programme(partner):
    return ProgrammeFactory(title="Lived Experience of Poverty", slug="lived-experience", partners=[partner])


@pytest.fixture
def framework(programme):
    """Two core domains (2 competencies each) and one course-specific domain (2 competencies)."""
    ethics = CoreDomainFactory(name="Ethics")
    methods = CoreDomainFactory(name="Research methods")
    course = CourseDomainFactory(name="Peer interviewing", programme=programme)
    competencies = [CompetencyFactory(domain=d) for d in (ethics, ethics, methods, methods, course, course)]
    return {"programme": programme, "core": [ethics, methods], "course": [course], "competencies": competencies}


@pytest.fixture
def facilitator(db):
    return UserFactory(email="facilitator@example.org", full_name="Fay Facilitator")


@pytest.fixture
def cohort(programme, partner, facilitator):
    cohort = CohortFactory(programme=programme, partner=partner, name="Hackney spring cohort")
    cohort.facilitators.add(facilitator)
    return cohort


@pytest.fixture
def learner(db):
    return UserFactory(email="learner@example.org", full_name="Zoë Ó'Brien-Łukasz")


@pytest.fixture
def enrolment(learner, cohort):
    return EnrolmentFactory(learner=learner, cohort=cohort)


@pytest.fixture
def other_learner(cohort):
    return EnrolmentFactory(learner__email="other.learner@example.org", cohort=cohort).learner


# Property-based tests (Hypothesis): a bounded budget, the same on every run in CI (derandomised,
# no deadline: a loaded CI machine must not turn slowness into failures). HYPOTHESIS_PROFILE=dev
# explores more.
hypothesis_settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile("dev", max_examples=500, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
