"""Celery tasks of the academy app: invitation emails, in chunks, and their sweeper.

``invitations_send_task`` sends one chunk (at most ``INVITATION_CHUNK_SIZE`` invitations) over
one SMTP connection. It acknowledges late and is rejected (so requeued) if its worker process
dies; each invitation is claimed with a row lock and marked sent the moment the mail server
accepts it, so a redelivered or duplicated chunk sends nothing twice. SMTP and network errors
are retried with a growing countdown (5 s, 10 s, ... far below the broker's visibility timeout);
after the task's own retries the sweeper (``invitations_sweep_task``, Celery beat every 2
minutes) carries on until ``INVITATION_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=240,
    time_limit=300,
)
def invitations_send_task(self, invitation_ids: list[int]) -> int:
    """Send these invitations (those still pending) over one SMTP connection; try again later
    those that met an SMTP or network error. Returns how many were sent."""
    from .models import Invitation
    from .services import invitation_retry_countdown, invitations_send

    try:
        result = invitations_send(invitation_ids=invitation_ids)
    except SoftTimeLimitExceeded:
        retry_ids = list(
            Invitation.objects.filter(pk__in=invitation_ids, status=Invitation.Status.PENDING).values_list(
                "pk", flat=True
            )
        )
        sent, error = 0, "the task ran out of time"
    else:
        retry_ids, sent, error = result.retry_ids, len(result.sent), result.error
    if retry_ids:
        if self.request.retries < self.max_retries:
            countdown = invitation_retry_countdown(self.request.retries + 1)
            logger.info("Invitations %s: trying again in %d s (%s).", retry_ids, countdown, error)
            raise self.retry(args=[retry_ids], countdown=countdown)
        logger.warning(
            "Invitations %s still unsent after %d tries (%s); the sweeper carries on.",
            retry_ids,
            self.request.retries + 1,
            error,
        )
    return sent


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def invitations_sweep_task() -> int:
    """Celery beat, every 2 minutes: queue again invitations still pending a few minutes on."""
    from .services import invitations_sweep

    return len(invitations_sweep())


@shared_task(bind=True, acks_late=True)
def learner_invitations_send_task(self, user_ids: list[int], invited_by_id: int | None = None) -> int:
    """Kept for messages queued before invitations were recorded (one task for all): records
    their invitations, which are then sent in chunks. Nothing queues this task any more."""
    from .services import learner_invitations_queue

    return learner_invitations_queue(learners=user_ids, invited_by=invited_by_id)
