"""Prometheus metrics at ``/metrics``: requests per view, and the Academy's own gauges.

Who may see it: only a scraper that shows ``METRICS_TOKEN`` (``Authorization: Bearer <token>``)
and/or comes from ``METRICS_ALLOWED_NETWORKS`` (by ``academy.client.client_ip``, which knows the
trusted proxies); with both set, both are needed. With neither set the endpoint is off. Anyone
else gets the site's ordinary 404, a wrong token too: nothing says the endpoint exists.

What it shows:

- django-prometheus's middleware counts and times every request, labelled by view name and
  method (never the path, so the number of series is bounded by the URL patterns), and counts
  responses by status;
- the Academy's gauges, computed when Prometheus scrapes, by sources that each app registers
  in its own ``metrics`` module (``@metrics.source("certificates")``, found like admin modules
  by ``autodiscover_modules``), so this bottom app reads no other app's models. Each source makes
  a fixed number of aggregate queries (or Redis calls); a source that fails (a database or broker
  outage) is left out of that scrape and ``academy_scrape_errors_total{source=...}`` goes up,
  never a 500;
- ``academy_scrape_errors_total`` itself.

Several gunicorn workers: with ``PROMETHEUS_MULTIPROC_DIR`` set (an empty folder, wiped when
gunicorn starts), prometheus_client keeps each worker's counters in files there and a scrape of
any worker adds all of them up (docs/operations.md).
"""

from __future__ import annotations

import datetime
import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db.models import Count, Min
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

from .client import client_ip

logger = logging.getLogger(__name__)

Source = Callable[[], Iterable[Metric]]
_sources: dict[str, Source] = {}

scrape_errors = Counter(
    "academy_scrape_errors",
    "Scrapes in which a source of the Academy's gauges could not be read (its gauges were left out).",
    ["source"],
)


def source(name: str) -> Callable[[Source], Source]:
    """Register ``function()`` (returning metric families) as the gauges' source ``name``."""

    def register(function: Source) -> Source:
        if _sources.get(name, function) is not function:
            raise ValueError(f"The metrics source {name!r} is registered twice.")
        _sources[name] = function
        return function

    return register


def gauge(name: str, documentation: str, value: float, labels: dict[str, str] | None = None) -> GaugeMetricFamily:
    """One gauge (with one sample, optionally labelled)."""
    if labels:
        family = GaugeMetricFamily(name, documentation, labels=list(labels))
        family.add_metric(list(labels.values()), value)
        return family
    return GaugeMetricFamily(name, documentation, value=value)


def age_seconds(since: datetime.datetime | None, now: datetime.datetime) -> float:
    """Seconds from ``since`` to ``now`` (0 when there is nothing waiting)."""
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


class AcademyCollector:
    """The registered sources, read at scrape time; one failing source leaves out only its own."""

    def collect(self) -> Iterable[Metric]:
        autodiscover_modules("metrics")
        for name, function in list(_sources.items()):
            try:
                families = list(function())
            except Exception as exc:  # noqa: BLE001 - any outage: leave the source out, count it
                scrape_errors.labels(source=name).inc()
                logger.warning("Metrics: %s could not be read (%s); left out of this scrape.", name, type(exc).__name__)
                continue
            yield from families


class _Scrape:
    """What one scrape shows: the Academy's gauges first (so a failing source's error count is
    already up), then the process's (or, in multiprocess mode, all workers') metrics."""

    def __init__(self, *collectors):
        self.collectors = collectors

    def collect(self) -> Iterable[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def metrics_allowed(request) -> bool:
    """Whether this request may read the metrics (see the module's docstring)."""
    token = settings.METRICS_TOKEN
    networks = settings.METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        return False
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return False
    if networks:
        try:
            address = ipaddress.ip_address(client_ip(request))
        except ValueError:  # "unknown"
            return False
        if not any(address in ipaddress.ip_network(network, strict=False) for network in networks):
            return False
    return True


@never_cache
def metrics(request):
    """Prometheus (``METRICS_TOKEN`` / ``METRICS_ALLOWED_NETWORKS``); everyone else: 404."""
    if not metrics_allowed(request):
        raise Http404
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_metrics = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_metrics)
    else:
        process_metrics = REGISTRY
    return HttpResponse(generate_latest(_Scrape(AcademyCollector(), process_metrics)), content_type=CONTENT_TYPE_LATEST)


# --- The academy app's own sources ---------------------------------------------------------------


@source("invitations")
def invitations_unsent() -> list[Metric]:
    """Invitations recorded but not yet accepted by the mail server (one query)."""
    from .models import Invitation

    now = timezone.now()
    row = Invitation.objects.filter(status=Invitation.Status.PENDING).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    return [
        gauge("academy_invitations_unsent", "Invitations recorded and not yet sent.", row["count"]),
        gauge(
            "academy_invitations_unsent_oldest_age_seconds",
            "Age of the oldest invitation not yet sent (0 when none waits).",
            age_seconds(row["oldest"], now),
        ),
    ]


_redis_clients: dict[str, object] = {}


def celery_queue_names() -> list[str]:
    """The queues the workers consume: Celery's default queue and any declared in ``task_queues``."""
    from .celery import app

    names = [app.conf.task_default_queue]
    names += [queue.name for queue in app.conf.task_queues or () if queue.name not in names]
    return names


@source("celery")
def celery_queue_lengths() -> list[Metric]:
    """Messages waiting in each Celery queue (Redis ``LLEN``, one round trip); nothing without a
    Redis broker (tasks run in-process)."""
    import redis

    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return []
    client = _redis_clients.get(url)
    if client is None:
        client = _redis_clients.setdefault(
            url, redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0)
        )
    names = celery_queue_names()
    pipeline = client.pipeline(transaction=False)
    for name in names:
        pipeline.llen(name)
    family = GaugeMetricFamily(
        "academy_celery_queue_length",
        "Tasks waiting in the Celery queue (not yet taken by a worker).",
        labels=["queue"],
    )
    for name, length in zip(names, pipeline.execute(), strict=True):
        family.add_metric([name], length)
    return [family]
