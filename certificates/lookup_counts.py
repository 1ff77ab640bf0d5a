"""Counting verification look-ups per week, with no personal data (for the staff reports).

``lookup_record(kind)`` adds one to this week's count of ``kind`` (``VerificationLookupCount``) in
one statement, ``INSERT ... ON CONFLICT (week_starting, kind) DO UPDATE SET count = count + 1``
(PostgreSQL and SQLite both have it; Django's ``bulk_create(update_conflicts=True)`` can only set a
column to the new row's value, not add to it), so concurrent look-ups on several web machines are
all counted and the first of a week makes the row. Nothing about the visitor or the
certificate is stored. A failure to count is logged and never breaks the verification.
"""

from __future__ import annotations

import contextlib
import datetime
import logging

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from .models import VerificationLookupCount

logger = logging.getLogger(__name__)


def week_starting(day: datetime.date) -> datetime.date:
    """The Monday of ``day``'s week."""
    return day - datetime.timedelta(days=day.weekday())


def lookup_record(kind: str, *, today: datetime.date | None = None) -> None:
    """Count one look-up of ``kind`` (a ``VerificationLookupCount.Kind``) this week; never raises
    a database error (logged instead)."""
    week = week_starting(today or timezone.localdate())
    table = connection.ops.quote_name(VerificationLookupCount._meta.db_table)
    # Views run in autocommit: the statement is its own transaction. Inside a transaction (a test,
    # or a caller's), a savepoint keeps a failed count from spoiling the rest of it.
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with guard, connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (week_starting, kind, count) VALUES (%s, %s, 1) "  # noqa: S608 (names are ours)
                f"ON CONFLICT (week_starting, kind) DO UPDATE SET count = {table}.count + 1",
                [week, kind],
            )
    except DatabaseError:
        logger.warning("A verification look-up (%s) was not counted.", kind, exc_info=True)
