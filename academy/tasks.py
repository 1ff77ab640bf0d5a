"""Celery tasks of the academy app: invitation emails in bulk."""

from celery import shared_task


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=60)
def learner_invitations_send_task(self, user_ids: list[int], invited_by_id: int | None = None) -> int:
    """Send invitation emails to these users (skipping any who have set a password meanwhile)."""
    from .services import learner_invitations_send

    return learner_invitations_send(user_ids=user_ids, invited_by_id=invited_by_id)
