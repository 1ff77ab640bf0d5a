"""The certificates app's gauges for ``/metrics`` (``academy.metrics``, found by autodiscovery).

One aggregate query over pending and failed certificates (the status index), and the latest
integrity check's failure count (``certificates.selectors.integrity_failures()``, recorded by
``check_certificates``). No learner is named: counts and ages only.
"""

from __future__ import annotations

from django.db.models import Count, Min
from django.utils import timezone

from academy.metrics import age_seconds, gauge, source

from . import selectors
from .models import Certificate


@source("certificates")
def certificates_waiting() -> list:
    """Certificates pending (and the oldest one's age since it was requested) and failed."""
    now = timezone.now()
    rows = {
        row["status"]: row
        for row in Certificate.objects.filter(status__in=[Certificate.Status.PENDING, Certificate.Status.FAILED])
        .order_by()
        .values("status")
        .annotate(count=Count("pk"), oldest=Min("requested_at"))
    }
    pending = rows.get(Certificate.Status.PENDING, {})
    return [
        gauge("academy_certificates_pending", "Certificates waiting to be made and signed.", pending.get("count", 0)),
        gauge(
            "academy_certificates_pending_oldest_age_seconds",
            "Seconds since the oldest pending certificate was requested (0 when none waits).",
            age_seconds(pending.get("oldest"), now),
        ),
        gauge(
            "academy_certificates_failed",
            "Certificates whose issuing failed (the sweeper retries those with attempts left).",
            rows.get(Certificate.Status.FAILED, {}).get("count", 0),
        ),
    ]


@source("certificate_integrity")
def certificate_integrity() -> list:
    """The latest finished integrity check's failures (0 before a first run; one query)."""
    return [
        gauge(
            "academy_certificate_integrity_failures",
            "Stored certificate files that were missing, changed or no longer valid at the last check.",
            selectors.integrity_failures(),
        )
    ]
