"""Celery tasks of certificates: issue one certificate; sweep for any left behind.

``certificate_issue_task`` acknowledges late and is rejected (so requeued) if its worker process
dies; transient errors (database, storage, mail server, time limits) are retried with exponential
backoff whose countdowns (at most 5 minutes) stay far below the broker's visibility timeout
(``CELERY_BROKER_TRANSPORT_OPTIONS``, 30 minutes). A problem retrying cannot fix (no signing key,
wrong key) marks the certificate failed at once with a readable reason; the sweeper tries failed
ones again a few times (``CERTIFICATE_MAX_ATTEMPTS``), so there is no crash loop.
"""

from __future__ import annotations

import logging
import smtplib

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init
from django.db import DatabaseError, InterfaceError, OperationalError

logger = logging.getLogger(__name__)

# Retry only what may pass by itself.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    DatabaseError,
    OSError,
    smtplib.SMTPException,
    SoftTimeLimitExceeded,
)


class CertificateTask(Task):
    """Records why a certificate could not be issued once its retries are exhausted."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        from .services import certificate_fail

        certificate_id = kwargs.get("certificate_id", args[0] if args else None)
        if certificate_id is None:
            return
        reason = f"{type(exc).__name__}: {exc}".strip()
        try:
            certificate_fail(certificate_id=certificate_id, reason=reason)
        except Exception:  # the database itself may be what failed; the sweeper will retry
            logger.exception("Could not record the failure of certificate %s", certificate_id)


@worker_init.connect
def _preload_renderer_libraries(**kwargs) -> None:
    """Import WeasyPrint and pyHanko once in the worker's main process, before the pool forks,
    so pool processes share those pages instead of each loading its own copy; then move every
    object made so far out of the garbage collector's sight (``gc.freeze``), so that collections
    in the pool processes do not write to - and so copy - the pages they share."""
    import gc

    import weasyprint  # noqa: F401
    from pyhanko.sign import signers, validation  # noqa: F401

    from . import rendering, signing  # noqa: F401

    gc.collect()
    gc.freeze()


@shared_task(
    bind=True,
    base=CertificateTask,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def certificate_issue_task(self, certificate_id: int) -> str:
    """Render, sign, store and email one certificate (idempotent: safe to run again)."""
    from .services import CertificateIssueError, certificate_fail, certificate_issue

    try:
        certificate = certificate_issue(certificate_id=certificate_id)
    except CertificateIssueError as exc:
        certificate_fail(certificate_id=certificate_id, reason=str(exc))
        logger.warning("Certificate %s failed: %s", certificate_id, exc)
        return "failed"
    return certificate.status if certificate is not None else "missing"


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def certificates_sweep_task() -> int:
    """Celery beat, every 5 minutes: re-enqueue certificates left pending or failed."""
    from .services import certificates_enqueue_stale

    return len(certificates_enqueue_stale())
