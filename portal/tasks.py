"""Celery tasks of the partner portal: the “you have been added to …” emails and their sweeper
(the same pattern as ``academy.tasks``' invitations: acks late, retried, swept)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=5,
    soft_time_limit=240,
    time_limit=300,
)
def enrolment_notices_send_task(self, notice_ids: list[int]) -> int:
    """Send these notices; try again later those that met an error that may pass."""
    from academy.services import invitation_retry_countdown

    from .services import enrolment_notices_send

    retry = enrolment_notices_send(notice_ids=notice_ids)
    if retry and self.request.retries < self.max_retries:
        raise self.retry(args=[retry], countdown=invitation_retry_countdown(self.request.retries + 1))
    return len(notice_ids) - len(retry)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def enrolment_notices_sweep_task() -> int:
    """Celery beat, every 2 minutes: queue again notices still pending a few minutes on."""
    from .services import enrolment_notices_sweep

    return len(enrolment_notices_sweep())
