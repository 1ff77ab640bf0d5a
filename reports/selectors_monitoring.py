"""Reads of one learner's own equality-monitoring state (for that learner's pages only)."""

from __future__ import annotations

from .models import EqualityMonitoringAnswers, EqualityMonitoringInvitation


def should_ask(user) -> bool:
    """Whether the dashboard should invite ``user`` to answer: a signed-in person who has not yet
    answered, skipped or withdrawn. One query."""
    if not getattr(user, "is_authenticated", False):
        return False
    return not EqualityMonitoringInvitation.objects.filter(learner=user).exists()


def own_answers(user) -> EqualityMonitoringAnswers | None:
    """``user``'s own answers, or None. Only ever called with the signed-in person."""
    return EqualityMonitoringAnswers.objects.filter(learner=user).first()


def own_invitation(user) -> EqualityMonitoringInvitation | None:
    return EqualityMonitoringInvitation.objects.filter(learner=user).first()
