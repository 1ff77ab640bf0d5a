"""A person's data export: each app contributes its own part.

An app registers a function that returns the JSON-ready data it holds about a person under a
section name (``personal_data.section("enrolments")``), usually in its ``AppConfig.ready``; the
learner's "download my data" page (``learners``) collects every section in registration order.
So no app reads another app's models to export them, and a new model with personal data is
exported by the app that owns it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Collector = Callable[[Any], Any]
_sections: dict[str, Collector] = {}


def section(name: str) -> Callable[[Collector], Collector]:
    """Register ``function(user)`` as the export's section ``name`` (a name belongs to one app)."""

    def register(function: Collector) -> Collector:
        if _sections.get(name, function) is not function:
            raise ValueError(f"The personal data section {name!r} is registered twice.")
        _sections[name] = function
        return function

    return register


def when(value) -> str | None:
    """A date or time as ISO 8601, or None."""
    return value.isoformat() if value else None


def collect(user) -> dict[str, Any]:
    """Everything the Academy holds about ``user``: every registered section."""
    return {name: function(user) for name, function in _sections.items()}


@section("account")
def _account(user) -> dict:
    from allauth.account.models import EmailAddress

    return {
        "email": user.email,
        "full_name": user.full_name,
        "date_joined": when(user.date_joined),
        "last_login": when(user.last_login),
        "is_staff": user.is_staff,
        "email_addresses": [
            {"email": e.email, "verified": e.verified, "primary": e.primary}
            for e in EmailAddress.objects.filter(user=user)
        ],
    }


@section("name_change_requests")
def _name_change_requests(user) -> list[dict]:
    from .models import NameChangeRequest

    return [
        {"requested_name": r.requested_name, "reason": r.reason, "status": r.status, "asked": when(r.created_at)}
        for r in NameChangeRequest.objects.filter(user=user)
    ]


@section("invitations")
def _invitations(user) -> list[dict]:
    from .models import Invitation

    return [
        {"status": i.status, "recorded": when(i.created_at), "sent": when(i.sent_at), "attempts": i.attempts}
        for i in Invitation.objects.filter(user=user).order_by("created_at")
    ]
