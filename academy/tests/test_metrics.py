"""/metrics (academy.metrics): off unless a token or a network is configured, 404 for anyone
without them (a wrong token too), and when allowed: requests per view from django-prometheus's
middleware, the Academy's gauges read with a fixed number of queries, and a broker outage that
leaves out only the queue length (counted in ``academy_scrape_errors_total``), never a 500."""

from __future__ import annotations

import datetime
import socket
import uuid

import pytest
import redis
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from academy import metrics
from academy.models import Invitation
from academy.tests.factories import UserFactory
from tests.support.workers import in_ci

TOKEN = "a-scrapers-token-of-thirty-two-chars"
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []


def scrape(client, **headers) -> dict[str, dict[tuple, float]]:
    """The scrape's samples: metric name -> {sorted labels: value}."""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples[name][tuple(sorted(labels.items()))]


# --- Who may see it ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_token_or_network_configured_the_endpoint_is_off(client, settings, admin_user):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    client.force_login(admin_user)  # not even a superuser
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
        "Bearer",
        "Bearer \u202e\x00zoë",
    ],
)
def test_a_missing_or_wrong_token_gets_the_ordinary_404(client, token, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = client.get("/metrics", **headers)
    assert response.status_code == 404
    assert b"academy_" not in response.content and b"django_http" not in response.content


@pytest.mark.django_db
def test_the_right_token_shows_the_academys_gauges_and_requests_per_view(client, token):
    client.get("/healthz/")
    client.get("/verify/")
    samples = scrape(client, **AUTH)
    for name in (
        "academy_certificates_pending",
        "academy_certificates_pending_oldest_age_seconds",
        "academy_certificates_failed",
        "academy_invitations_unsent",
        "academy_invitations_unsent_oldest_age_seconds",
    ):
        assert name in samples, name
    # Per view name (the URL pattern's name), never per path.
    assert value(samples, "django_http_requests_total_by_view_transport_method_total", view="healthz",
                 transport="http", method="GET") >= 1  # fmt: skip
    assert value(samples, "django_http_requests_latency_seconds_by_view_method_count", view="healthz",
                 method="GET") >= 1  # fmt: skip
    views = {dict(labels)["view"] for labels in samples["django_http_requests_latency_seconds_by_view_method_count"]}
    assert "certificates:verify_start" in views
    assert not [view for view in views if "/" in view], views


@pytest.mark.django_db
def test_paths_nobody_routed_share_one_series(client, token):
    """Scanners asking for thousands of made-up paths cannot grow the number of series."""
    for n in range(5):
        client.get(f"/no-such-page-{uuid.uuid4().hex}-{n}/")
    samples = scrape(client, **AUTH)
    views = {dict(labels)["view"] for labels in samples["django_http_responses_total_by_status_view_method_total"]}
    assert not [view for view in views if "no-such-page" in view]
    assert value(samples, "django_http_responses_total_by_status_view_method_total", view="<unnamed view>",
                 status="404", method="GET") >= 5  # fmt: skip


@pytest.mark.django_db
def test_an_allowed_network_needs_no_token(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16", "2001:db8::/32"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.21.3.4").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


@pytest.mark.django_db
def test_the_network_is_judged_by_the_address_our_proxies_saw(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    # No trusted proxy: a forged X-Forwarded-For changes nothing.
    settings.TRUSTED_PROXY_COUNT = 0
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.20.3.4").status_code == 404
    # One trusted proxy: the entry it wrote counts, the visitor's own entries further left do not.
    settings.TRUSTED_PROXY_COUNT = 1
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="10.20.3.4").status_code == 200
    forged = client.get("/metrics", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="10.20.3.4, 203.0.113.9")
    assert forged.status_code == 404


@pytest.mark.django_db
def test_with_both_set_both_are_needed(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4", **AUTH).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.1", **AUTH).status_code == 404


# --- The academy app's gauges (certificates' are in certificates/tests/test_metrics.py) ------------


def invitation_with(status, *, minutes_ago=0):
    invitation = Invitation.objects.create(user=UserFactory(), status=status, sweep_after=timezone.now())
    Invitation.objects.filter(pk=invitation.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )
    return invitation


@pytest.fixture
def invitations_waiting(db):
    """Two invitations unsent (the oldest recorded 20 minutes ago), one sent, one failed."""
    invitation_with(Invitation.Status.PENDING, minutes_ago=20)
    invitation_with(Invitation.Status.PENDING, minutes_ago=1)
    invitation_with(Invitation.Status.SENT, minutes_ago=600)
    invitation_with(Invitation.Status.FAILED, minutes_ago=900)


def test_invitations_unsent_and_how_long_the_oldest_has_waited(client, token, invitations_waiting):
    samples = scrape(client, **AUTH)
    assert value(samples, "academy_invitations_unsent") == 2
    assert 20 * 60 <= value(samples, "academy_invitations_unsent_oldest_age_seconds") < 21 * 60


def test_no_invitation_waiting_is_zero_not_missing(client, token, db):
    samples = scrape(client, **AUTH)
    assert value(samples, "academy_invitations_unsent") == 0
    assert value(samples, "academy_invitations_unsent_oldest_age_seconds") == 0


def test_invitations_are_read_with_one_query_however_many_rows(invitations_waiting, django_assert_num_queries):
    with django_assert_num_queries(1):
        metrics.invitations_unsent()
    for _ in range(5):
        invitation_with(Invitation.Status.PENDING)
    with django_assert_num_queries(1):
        assert metrics.invitations_unsent()[0].samples[0].value == 7


# --- The Celery queue and a broker outage -------------------------------------------------------


def require_redis_broker(settings):
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        message = "the queue length is read from a Redis broker (REDIS_URL)"
        if in_ci():
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)


def test_the_queue_length_is_the_brokers_count_of_waiting_tasks(client, token, db, settings):
    require_redis_broker(settings)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    marker = f"academy-metrics-test-{uuid.uuid4().hex}"
    assert metrics.celery_queue_names() == ["celery"]
    try:
        broker.lpush("celery", marker, marker, marker)
        expected = broker.llen("celery")
        assert expected >= 3
        samples = scrape(client, **AUTH)
        assert value(samples, "academy_celery_queue_length", queue="celery") == expected
    finally:
        broker.lrem("celery", 0, marker)
        broker.close()


def test_a_broker_outage_leaves_out_the_queue_length_and_counts_an_error(client, token, db, settings):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    before = scrape(client, **AUTH).get("academy_scrape_errors_total", {}).get((("source", "celery"),), 0)
    response = client.get("/metrics", **AUTH)
    assert response.status_code == 200
    samples = scrape(client, **AUTH)
    assert "academy_celery_queue_length" not in samples
    assert value(samples, "academy_scrape_errors_total", source="celery") == before + 2
    # The other sources still answer.
    assert value(samples, "academy_certificates_pending") == 0
    assert value(samples, "academy_invitations_unsent") == 0


# --- Settings ------------------------------------------------------------------------------------


SETTINGS_PROBE = (
    "import django; django.setup(); from django.conf import settings; print(settings.METRICS_ALLOWED_NETWORKS)"
)


def test_a_network_that_is_not_one_or_a_short_token_refuses_to_start():
    from academy.tests.test_settings import run

    result = run(["-c", SETTINGS_PROBE], METRICS_ALLOWED_NETWORKS="10.0.0.0/8,not-a-network")
    assert result.returncode != 0
    assert "'not-a-network' is not a network" in result.stderr
    result = run(["-c", SETTINGS_PROBE], METRICS_TOKEN="short")
    assert result.returncode != 0
    assert "METRICS_TOKEN must be at least 24" in result.stderr
    result = run(["-c", SETTINGS_PROBE], METRICS_ALLOWED_NETWORKS="10.0.0.0/8, 2001:db8::/32")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['10.0.0.0/8', '2001:db8::/32']"
